#include "daemon/output.hpp"

#include <gtest/gtest.h>

#include <sstream>

using namespace clinicwatch;

TEST(Output, DisplayWidthCountsWideCharacters) {
    EXPECT_EQ(display_width("abc"), 3u);
    EXPECT_EQ(display_width("受付PC"), 6u);
    EXPECT_EQ(display_width("ｶﾞ"), 2u);  // half-width kana take one cell each
}

TEST(Output, CsvQuotesWhatNeedsIt) {
    std::ostringstream out;
    print_csv(out, Table{{"a", "b"}, {{"x,y", "say \"hi\""}, {"受付", "plain"}}});
    EXPECT_EQ(out.str(), "a,b\r\n\"x,y\",\"say \"\"hi\"\"\"\r\n受付,plain\r\n");
}

TEST(Output, CsvNeutralisesFormulaCells) {
    EXPECT_EQ(csv_safe("=HYPERLINK(\"http://x\",\"Open\")"), "'=HYPERLINK(\"http://x\",\"Open\")");
    EXPECT_EQ(csv_safe("+cmd|' /C calc'!A0"), "'+cmd|' /C calc'!A0");
    EXPECT_EQ(csv_safe("-2+3"), "'-2+3");
    EXPECT_EQ(csv_safe("@SUM(A1)"), "'@SUM(A1)");
    EXPECT_EQ(csv_safe("\tx"), "'\tx");
    EXPECT_EQ(csv_safe("\rx"), "'\rx");
    EXPECT_EQ(csv_safe("-3"), "-3");  // numbers stay numbers
    EXPECT_EQ(csv_safe("+81.5"), "+81.5");
    EXPECT_EQ(csv_safe("-"), "'-");
    EXPECT_EQ(csv_safe("受付PC"), "受付PC");
    EXPECT_EQ(csv_safe(""), "");
    std::ostringstream out;
    print_csv(out, Table{{"name"}, {{"=HYPERLINK(\"http://x\",\"Open\")"}, {"=1+1"}}});
    EXPECT_EQ(out.str(), "name\r\n\"'=HYPERLINK(\"\"http://x\"\",\"\"Open\"\")\"\r\n'=1+1\r\n");
}

TEST(Output, TableAlignsByDisplayWidth) {
    std::ostringstream out;
    print_table(out, Table{{"NAME", "ROLE"}, {{"受付", "reception"}, {"ab", "x"}}});
    EXPECT_EQ(out.str(), "NAME  ROLE\n受付  reception\nab    x\n");
}

TEST(Output, ParsesTimes) {
    EXPECT_EQ(parse_time("2026-11-20T08:00:00+09:00"), 1'795'129'200'000'000);
    EXPECT_EQ(parse_time("2026-11-19T23:00:00Z"), 1'795'129'200'000'000);
    EXPECT_TRUE(parse_time("2026-11-20"));
    EXPECT_TRUE(parse_time("2026-11-20 08:30"));
    EXPECT_TRUE(parse_time("24h"));
    EXPECT_FALSE(parse_time("yesterday"));
    EXPECT_FALSE(parse_time("2026-13-01"));
    EXPECT_FALSE(parse_time(""));
}

TEST(Output, FormatsIsoWithOffset) {
    setenv("TZ", "Asia/Tokyo", 1);
    tzset();
    EXPECT_EQ(format_time_iso(1'795'129'200'000'123), "2026-11-20T08:00:00.000123+09:00");
    EXPECT_EQ(format_time(1'795'129'200'000'000), "2026-11-20 08:00:00");
    unsetenv("TZ");
    tzset();
}
