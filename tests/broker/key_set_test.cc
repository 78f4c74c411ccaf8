// KeySet and may_claim (broker/key_set.h): what a key directory admits and
// which node ids an agent key may claim; the ZAP request decoder
// (broker/zap_protocol.h) on each kind of bad request.
#include "key_set.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zmq.h>

#include "roster/curve_certificate.h"
#include "support/process.h"
#include "support/saved_certificate.h"
#include "zap_protocol.h"

namespace roster::broker {
namespace {

using roster::testing::saved_certificate;
using roster::testing::TempDir;

TEST(MayClaim, GlobsMatchWholeNodeIds) {
  const AllowedKey web{"web", {"web-*", "api-[12]"}};
  EXPECT_TRUE(may_claim(web, "web-1"));
  EXPECT_TRUE(may_claim(web, "web-"));
  EXPECT_TRUE(may_claim(web, "api-2"));
  EXPECT_FALSE(may_claim(web, "api-3"));
  EXPECT_FALSE(may_claim(web, "db-1"));
  EXPECT_FALSE(may_claim(web, "xweb-1"));
  const AllowedKey one{"web1", {"web-1"}};
  EXPECT_TRUE(may_claim(one, "web-1"));
  EXPECT_FALSE(may_claim(one, "web-10"));
  EXPECT_FALSE(may_claim(one, "web-2"));
}

TEST(MayClaim, AKeyWithoutGlobsClaimsNothing) {
  EXPECT_FALSE(may_claim(AllowedKey{"ops", {}}, "web-1"));
}

TEST(KeySet, LoadsNamesGlobsAndSkipsDuplicates) {
  TempDir dir;
  const auto a = saved_certificate(dir.file("a"), "web", "web-*");
  save_certificate(a, dir.file("b"));  // the same key again
  std::vector<std::string> skipped;
  const KeySet set = KeySet::load(dir.path(), &skipped);
  EXPECT_EQ(set.size(), 1u);
  const AllowedKey* key = set.find(a.public_key);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->name, "web");
  EXPECT_EQ(key->node_globs, std::vector<std::string>{"web-*"});
  EXPECT_TRUE(set.admits(a.public_key));
  EXPECT_FALSE(set.admits(generate_certificate().public_key));
  // a_secret and b_secret, then b (the same key as a).
  ASSERT_EQ(skipped.size(), 3u);
  EXPECT_EQ(skipped[2], "b: same public key as web");
}

TEST(KeySet, AnyAdmitsEveryKeyButFindsNone) {
  const KeySet any = KeySet::any();
  const auto key = generate_certificate().public_key;
  EXPECT_TRUE(any.admits(key));
  EXPECT_EQ(any.find(key), nullptr);
  EXPECT_FALSE(KeySet().admits(key));
}

TEST(KeySet, MissingDirectoryThrows) {
  TempDir dir;
  EXPECT_THROW(KeySet::load(dir.file("none"), nullptr), std::runtime_error);
}

std::vector<std::string> curve_request(std::string key_bytes) {
  return {"1.0", "7", "agents", "127.0.0.1", "", "CURVE", std::move(key_bytes)};
}

TEST(ZapRequest, DecodesACurveRequestToItsZ85Key) {
  const auto cert = generate_certificate();
  std::string raw(32, '\0');
  ASSERT_NE(zmq_z85_decode(reinterpret_cast<uint8_t*>(raw.data()), cert.public_key.c_str()),
            nullptr);
  auto request = decode_zap_request(curve_request(raw));
  ASSERT_TRUE(request);
  EXPECT_EQ(request->request_id, "7");
  EXPECT_EQ(request->domain, "agents");
  EXPECT_EQ(request->client_key, cert.public_key);
  const auto reply = zap_reply(*request, true, "OK", request->client_key);
  EXPECT_EQ(reply, (std::vector<std::string>{"1.0", "7", "200", "OK", cert.public_key, ""}));
  const auto refusal = zap_reply(*request, false, "no", request->client_key);
  EXPECT_EQ(refusal[2], "400");
  EXPECT_EQ(refusal[4], "") << "no user id for a refused key";
}

TEST(ZapRequest, RejectsWrongVersion) {
  auto frames = curve_request(std::string(32, 'k'));
  frames[0] = "2.0";
  EXPECT_FALSE(decode_zap_request(frames));
}

TEST(ZapRequest, RejectsTooFewFrames) {
  EXPECT_FALSE(decode_zap_request({"1.0", "1", "agents"}));
}

TEST(ZapRequest, RejectsACurveKeyOfTheWrongSize) {
  EXPECT_FALSE(decode_zap_request(curve_request(std::string(31, 'k'))));
  auto frames = curve_request(std::string(32, 'k'));
  frames.push_back("extra");
  EXPECT_FALSE(decode_zap_request(frames));
}

}  // namespace
}  // namespace roster::broker
