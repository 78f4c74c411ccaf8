// roster_curve against CZMQ in both directions: a certificate zcert_save
// writes loads with load_certificate, and one save_certificate writes
// loads with zcert_load and is found by zcertstore.
#include <czmq.h>
#include <gtest/gtest.h>

#include "roster/certificate_directory.h"
#include "roster/curve_certificate.h"
#include "support/process.h"
#include "support/saved_certificate.h"

namespace roster {
namespace {

using testing::saved_certificate;
using testing::TempDir;

TEST(CurveCzmqInterop, CzmqCertificateLoadsWithOurs) {
  TempDir dir;
  zcert_t* cert = zcert_new();
  ASSERT_NE(cert, nullptr);
  zcert_set_meta(cert, "name", "%s", "from-czmq");
  zcert_set_meta(cert, "node", "%s", "web-*,db-1");
  ASSERT_EQ(zcert_save(cert, dir.file("czmq").c_str()), 0);

  const auto pub = load_certificate(dir.file("czmq"));
  EXPECT_EQ(pub.public_key, zcert_public_txt(cert));
  EXPECT_EQ(pub.secret_key, "");
  EXPECT_EQ(pub.metadata.at("name"), "from-czmq");
  EXPECT_EQ(certificate_node_globs(pub), (std::vector<std::string>{"web-*", "db-1"}));

  const auto sec = load_certificate(dir.file("czmq_secret"));
  EXPECT_EQ(sec.secret_key, zcert_secret_txt(cert));

  const auto store = load_certificate_directory(dir.path());
  ASSERT_EQ(store.certificates.size(), 1u);
  EXPECT_EQ(store.certificates[0].certificate.public_key, zcert_public_txt(cert));
  zcert_destroy(&cert);
}

TEST(CurveCzmqInterop, OurCertificateLoadsWithCzmq) {
  TempDir dir;
  const auto ours = saved_certificate(dir.file("ours"), "from-roster", "web-*");

  zcert_t* pub = zcert_load(dir.file("ours").c_str());
  ASSERT_NE(pub, nullptr);
  EXPECT_STREQ(zcert_public_txt(pub), ours.public_key.c_str());
  EXPECT_STREQ(zcert_meta(pub, "name"), "from-roster");
  EXPECT_STREQ(zcert_meta(pub, "node"), "web-*");
  zcert_destroy(&pub);

  zcert_t* sec = zcert_load(dir.file("ours_secret").c_str());
  ASSERT_NE(sec, nullptr);
  EXPECT_STREQ(zcert_public_txt(sec), ours.public_key.c_str());
  EXPECT_STREQ(zcert_secret_txt(sec), ours.secret_key.c_str());
  zcert_destroy(&sec);

  zcertstore_t* store = zcertstore_new(dir.path().c_str());
  ASSERT_NE(store, nullptr);
  zcert_t* found = zcertstore_lookup(store, ours.public_key.c_str());
  ASSERT_NE(found, nullptr);
  EXPECT_STREQ(zcert_meta(found, "name"), "from-roster");
  zcertstore_destroy(&store);
}

}  // namespace
}  // namespace roster
