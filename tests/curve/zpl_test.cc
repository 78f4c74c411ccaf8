// The ZPL reader (curve/src/zpl.h): the layout CZMQ writes, and each kind
// of bad line.
#include "zpl.h"

#include <gtest/gtest.h>

namespace roster::zpl {
namespace {

const Entry* find(const Document& doc, const std::string& path) {
  for (const auto& e : doc.entries) {
    if (e.path == path) return &e;
  }
  return nullptr;
}

TEST(Zpl, ReadsSectionsAndValues) {
  const auto doc = parse("metadata\n    name = \"web\"\ncurve\n    public-key = 'abc'\n");
  ASSERT_EQ(doc.error, "");
  ASSERT_NE(find(doc, "metadata/name"), nullptr);
  EXPECT_EQ(find(doc, "metadata/name")->value, "web");
  EXPECT_EQ(find(doc, "curve/public-key")->value, "abc");
  EXPECT_FALSE(find(doc, "curve")->has_value);
}

TEST(Zpl, SkipsCommentsAndBlankLines) {
  const auto doc = parse("#  header\n\n   \n  # indented comment\ncurve\n    k = v  # trailing\n");
  ASSERT_EQ(doc.error, "");
  EXPECT_EQ(find(doc, "curve/k")->value, "v");
}

TEST(Zpl, BareValueEndsAtHashOrBlank) {
  const auto doc = parse("a = x#y\nb = p q\n");
  EXPECT_NE(doc.error, "");  // "q" after the value
  const auto ok = parse("a = x#y\n");
  ASSERT_EQ(ok.error, "");
  EXPECT_EQ(find(ok, "a")->value, "x");
}

TEST(Zpl, QuotedValueKeepsHashAndSpaces) {
  const auto doc = parse("a = \"x #y z\"\nb = 'say \"hi\"'\n");
  ASSERT_EQ(doc.error, "");
  EXPECT_EQ(find(doc, "a")->value, "x #y z");
  EXPECT_EQ(find(doc, "b")->value, "say \"hi\"");
}

TEST(Zpl, AcceptsCrLfAndNoFinalNewline) {
  const auto doc = parse("curve\r\n    k = \"v\"");
  ASSERT_EQ(doc.error, "");
  EXPECT_EQ(find(doc, "curve/k")->value, "v");
}

TEST(Zpl, RejectsIndentationNotMultipleOfFour) {
  EXPECT_NE(parse("curve\n   k = v\n").error.find("line 2"), std::string::npos);
}

TEST(Zpl, RejectsTabIndentation) {
  EXPECT_NE(parse("curve\n\tk = v\n").error.find("tab"), std::string::npos);
}

TEST(Zpl, RejectsIndentationDeeperThanSection) {
  EXPECT_NE(parse("curve\n        k = v\n").error, "");
}

TEST(Zpl, RejectsUnterminatedQuote) {
  EXPECT_NE(parse("k = \"v\n").error.find("unterminated"), std::string::npos);
}

TEST(Zpl, RejectsBadName) {
  EXPECT_NE(parse("= v\n").error, "");
  EXPECT_NE(parse("k! = v\n").error, "");
}

TEST(Zpl, RejectsDuplicatePath) {
  EXPECT_NE(parse("curve\n    k = a\n    k = b\n").error.find("duplicate"), std::string::npos);
}

TEST(Zpl, SectionsCloseOnDedent) {
  const auto doc = parse("a\n    b\n        c = 1\n    d = 2\ne = 3\n");
  ASSERT_EQ(doc.error, "");
  EXPECT_EQ(find(doc, "a/b/c")->value, "1");
  EXPECT_EQ(find(doc, "a/d")->value, "2");
  EXPECT_EQ(find(doc, "e")->value, "3");
}

TEST(Zpl, QuoteChoosesTheOtherQuote) {
  EXPECT_EQ(quote("a b"), "\"a b\"");
  EXPECT_EQ(quote("a\"b"), "'a\"b'");
  EXPECT_EQ(quote("a\"b'c"), "");
}

}  // namespace
}  // namespace roster::zpl
