// The flat id index of the node table (membership_id_index.h): insert,
// find, erase with backward shift, growth, and runs of colliding hashes.
#include "membership_id_index.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

namespace roster::internal {
namespace {

// Ids by slot, as the node table keeps them; `hash` may be forced to make
// every id collide.
struct Ids {
  std::vector<std::string> by_slot;
  bool collide = false;

  uint64_t hash(std::string_view id) const { return collide ? 42u : hash_id(id); }
  std::string_view operator()(uint32_t slot) const { return by_slot[slot]; }
};

uint32_t find(const IdIndex& index, const Ids& ids, std::string_view id) {
  return index.find(id, ids.hash(id), ids);
}

TEST(IdIndex, FindsWhatWasInsertedAndNothingElse) {
  IdIndex index;
  Ids ids;
  EXPECT_EQ(find(index, ids, "a"), IdIndex::kNone);
  ids.by_slot = {"a", "b"};
  index.insert(ids.hash("a"), 0);
  index.insert(ids.hash("b"), 1);
  EXPECT_EQ(find(index, ids, "a"), 0u);
  EXPECT_EQ(find(index, ids, "b"), 1u);
  EXPECT_EQ(find(index, ids, "c"), IdIndex::kNone);
  EXPECT_EQ(index.size(), 2u);
}

TEST(IdIndex, EraseDropsOnlyThatId) {
  IdIndex index;
  Ids ids;
  ids.by_slot = {"a", "b"};
  index.insert(ids.hash("a"), 0);
  index.insert(ids.hash("b"), 1);
  EXPECT_TRUE(index.erase("a", ids.hash("a"), ids));
  EXPECT_FALSE(index.erase("a", ids.hash("a"), ids));
  EXPECT_EQ(find(index, ids, "a"), IdIndex::kNone);
  EXPECT_EQ(find(index, ids, "b"), 1u);
  EXPECT_EQ(index.size(), 1u);
}

TEST(IdIndex, GrowsBeforeSeventyPercentAndKeepsEveryId) {
  IdIndex index;
  Ids ids;
  for (uint32_t i = 0; i < 10'000; ++i) {
    ids.by_slot.push_back("node-" + std::to_string(i));
    index.insert(ids.hash(ids.by_slot.back()), i);
    ASSERT_LE(index.size() * 10, index.capacity() * 7);
  }
  for (uint32_t i = 0; i < 10'000; ++i) EXPECT_EQ(find(index, ids, ids.by_slot[i]), i);
  EXPECT_EQ(find(index, ids, "node-10000"), IdIndex::kNone);
}

TEST(IdIndex, CollidingIdsAreFoundAndErasedInAnyOrder) {
  IdIndex index;
  Ids ids;
  ids.collide = true;  // every id has the same hash: one long run
  for (uint32_t i = 0; i < 50; ++i) {
    ids.by_slot.push_back("c" + std::to_string(i));
    index.insert(ids.hash(ids.by_slot.back()), i);
  }
  // Erase from the middle, the start and the end of the run.
  for (uint32_t i : {25u, 0u, 49u, 10u}) EXPECT_TRUE(index.erase(ids.by_slot[i], 42, ids));
  for (uint32_t i = 0; i < 50; ++i) {
    bool erased = i == 25 || i == 0 || i == 49 || i == 10;
    EXPECT_EQ(find(index, ids, ids.by_slot[i]), erased ? IdIndex::kNone : i) << i;
  }
  EXPECT_EQ(index.size(), 46u);
}

// The prefetch guess: the slot find() compares first. Exact when no other
// id shares the tag; the first of a colliding run otherwise; kNone for an
// empty index. prefetch() of any hash is harmless.
TEST(IdIndex, FirstCandidateIsTheSlotFindComparesFirst) {
  IdIndex index;
  Ids ids;
  EXPECT_EQ(index.first_candidate(ids.hash("a")), IdIndex::kNone);
  index.prefetch(ids.hash("a"));
  for (uint32_t i = 0; i < 1'000; ++i) {
    ids.by_slot.push_back("node-" + std::to_string(i));
    index.insert(ids.hash(ids.by_slot.back()), i);
  }
  size_t exact = 0;
  for (uint32_t i = 0; i < 1'000; ++i) {
    const uint64_t hash = ids.hash(ids.by_slot[i]);
    index.prefetch(hash);
    const uint32_t guess = index.first_candidate(hash);
    ASSERT_NE(guess, IdIndex::kNone) << i;
    // A wrong guess names an id with the same tag.
    if (guess != i) {
      EXPECT_EQ(ids.hash(ids.by_slot[guess]) >> 32, hash >> 32) << i;
    }
    exact += guess == i;
  }
  EXPECT_EQ(exact, 1'000u);  // 32-bit tags: no collision among 1,000 ids

  IdIndex run;
  Ids colliding;
  colliding.collide = true;
  for (uint32_t i = 0; i < 5; ++i) {
    colliding.by_slot.push_back("c" + std::to_string(i));
    run.insert(colliding.hash(colliding.by_slot.back()), i);
  }
  EXPECT_EQ(run.first_candidate(42), 0u);
}

// Random inserts and erases against std::map, with a tiny hash space so
// that runs wrap around the end of the array and overlap.
TEST(IdIndex, MatchesAMapUnderChurnWithManyCollisions) {
  struct FewHashes : Ids {
    uint64_t hash(std::string_view id) const {
      // Homes at the last 7 entries of the array, whatever its size.
      return (0xffffffffull - hash_id(id) % 7) << 32;
    }
  };
  IdIndex index;
  FewHashes ids;
  std::map<std::string, uint32_t> model;
  std::mt19937 rng(7);
  for (int step = 0; step < 20'000; ++step) {
    std::string id = "n" + std::to_string(rng() % 300);
    auto it = model.find(id);
    if (it == model.end()) {
      uint32_t slot = static_cast<uint32_t>(ids.by_slot.size());
      ids.by_slot.push_back(id);
      index.insert(ids.hash(id), slot);
      model.emplace(id, slot);
    } else {
      ASSERT_TRUE(index.erase(id, ids.hash(id), ids));
      model.erase(it);
    }
    if (step % 500 == 0) {
      for (uint32_t i = 0; i < 300; ++i) {
        std::string probe = "n" + std::to_string(i);
        auto m = model.find(probe);
        ASSERT_EQ(index.find(probe, ids.hash(probe), ids),
                  m == model.end() ? IdIndex::kNone : m->second)
            << probe;
      }
    }
  }
  EXPECT_EQ(index.size(), model.size());
}

TEST(IdIndex, HashDependsOnEveryByte) {
  EXPECT_NE(hash_id("node-0000001"), hash_id("node-0000002"));
  EXPECT_NE(hash_id("a"), hash_id("b"));
  EXPECT_NE(hash_id(""), hash_id(std::string_view("\0", 1)));
  EXPECT_NE(hash_id("abcdefgh1"), hash_id("abcdefgh2"));
}

}  // namespace
}  // namespace roster::internal
