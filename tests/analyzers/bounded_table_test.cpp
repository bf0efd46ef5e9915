#include "analyzers/bounded_table.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

using namespace clinicwatch;

// Random inserts, replacements, erasures and lookups against a std::map kept in step (evicted
// keys are removed from it through on_evict): every lookup must agree, at every size, through
// many evictions and the slot shifts that removals cause.
TEST(BoundedTable, AgreesWithAPlainMapThroughEvictionsAndErasures) {
    for (std::size_t capacity : {1u, 7u, 64u, 1000u}) {
        BoundedTable<std::uint64_t, std::uint64_t> table(capacity);
        std::map<std::uint64_t, std::uint64_t> model;
        std::mt19937_64 rng(capacity);
        std::uint64_t evicted = 0;
        for (int op = 0; op < 200'000; ++op) {
            std::uint64_t key = rng() % (capacity * 3 + 5);
            switch (rng() % 4) {
                case 0:
                case 1: {
                    std::uint64_t value = rng();
                    table.insert(
                        key, value, [](std::uint64_t a, std::uint64_t b) { return a < b; },
                        [&](const std::uint64_t& k, std::uint64_t) {
                            ASSERT_EQ(model.erase(k), 1u) << "evicted a key it did not hold";
                            ++evicted;
                        });
                    model[key] = value;
                    break;
                }
                case 2:
                    EXPECT_EQ(table.erase(key), model.erase(key) == 1);
                    break;
                default: {
                    const std::uint64_t* v = table.find(key);
                    auto it = model.find(key);
                    ASSERT_EQ(v != nullptr, it != model.end()) << "key " << key;
                    if (v) {
                        EXPECT_EQ(*v, it->second);
                    }
                }
            }
            ASSERT_LE(table.size(), capacity);
            ASSERT_EQ(table.size(), model.size());
        }
        EXPECT_EQ(table.evictions(), evicted);
        for (const auto& [k, v] : model) ASSERT_TRUE(table.find(k)) << k;
        table.erase_if([](std::uint64_t k, std::uint64_t) { return k % 2 == 0; });
        for (const auto& [k, v] : model) EXPECT_EQ(table.find(k) != nullptr, k % 2 == 1) << k;
    }
}

TEST(BoundedTable, StringKeys) {
    BoundedTable<std::string, int> table(2);
    auto older = [](int a, int b) { return a < b; };
    auto ignore = [](const std::string&, int) {};
    table.insert("a", 1, older, ignore);
    table.insert("b", 2, older, ignore);
    table.insert("c", 3, older, ignore);  // evicts the oldest of those sampled
    EXPECT_EQ(table.size(), 2u);
    EXPECT_EQ(table.evictions(), 1u);
    ASSERT_TRUE(table.find("c"));
    EXPECT_EQ(*table.find("c"), 3);
}
