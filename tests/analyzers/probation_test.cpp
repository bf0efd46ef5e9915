#include "analyzers/probation.hpp"

#include <gtest/gtest.h>

using namespace clinicwatch;

namespace {
using Outcome = Probation::Outcome;
constexpr Timestamp kWindow = 10 * kMicrosPerSecond;
}  // namespace

TEST(Probation, AdmitsOnTheSecondSightingWithinTheWindowOnly) {
    Probation p(16, kWindow);
    EXPECT_EQ(p.check(3, 0xabc, 1000), Outcome::started_waiting);
    EXPECT_EQ(p.check(3, 0xabc, 1000 + kWindow), Outcome::admitted);
    // Admitted keys leave the array: the next sighting waits again from the start.
    EXPECT_EQ(p.check(3, 0xabc, 2000 + kWindow), Outcome::started_waiting);
    // Too late: the wait starts again, and the key is not counted as new.
    EXPECT_EQ(p.check(3, 0xabc, 2001 + 2 * kWindow), Outcome::waiting_again);
    EXPECT_EQ(p.check(3, 0xabc, 2002 + 2 * kWindow), Outcome::admitted);
    EXPECT_EQ(p.refused(), 3u);
}

TEST(Probation, AnotherKeyInTheSameSlotTakesItOver) {
    Probation p(16, kWindow);
    EXPECT_EQ(p.check(5, 1, 100), Outcome::started_waiting);
    EXPECT_EQ(p.check(5 + 16, 2, 101), Outcome::started_waiting);  // same slot, other key
    EXPECT_EQ(p.check(5, 1, 102), Outcome::started_waiting);       // its wait was lost
    EXPECT_EQ(p.check(6, 1, 103), Outcome::started_waiting);       // another slot
    EXPECT_EQ(p.check(5, 1, 104), Outcome::admitted);
}

TEST(Probation, ASecondSightingTooSoonKeepsWaiting) {
    Probation p(16, kWindow, 1000);
    EXPECT_EQ(p.check(3, 7, 0), Outcome::started_waiting);
    EXPECT_EQ(p.check(3, 7, 10), Outcome::waiting_again);  // two frames at once: a tool
    EXPECT_EQ(p.check(3, 7, 999), Outcome::waiting_again);
    EXPECT_EQ(p.check(3, 7, 1000), Outcome::admitted);  // the wait counts from the first
}

TEST(Probation, TheFirstSightingsTagComesBackOnAdmission) {
    Probation p(16, kWindow);
    EXPECT_EQ(p.check(1, 10, 0, 1), Outcome::started_waiting);  // e.g. sent from inside
    EXPECT_EQ(p.check(2, 20, 0, 0), Outcome::started_waiting);
    EXPECT_EQ(p.check(1, 10, 5, 0), Outcome::admitted);  // its answer, from outside
    EXPECT_EQ(p.first_tag(), 1);
    EXPECT_EQ(p.check(2, 20, 6, 1), Outcome::admitted);
    EXPECT_EQ(p.first_tag(), 0);
}

TEST(Probation, ZeroIsAKeyLikeAnyOther) {
    // Empty slots are marked by their time, so no fingerprint value is reserved.
    Probation p(1, kWindow);
    EXPECT_EQ(p.check(0, 0, 0), Outcome::started_waiting);
    EXPECT_EQ(p.check(0, 0, 1), Outcome::admitted);
}
