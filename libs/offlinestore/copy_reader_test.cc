// Rows streamed with COPY out of a real PostgreSQL: awkward text (tabs, newlines, backslashes,
// a literal \N), NULLs, many rows read one at a time, the end, and a statement that fails;
// and COPY's line format split on its own.
#include "libs/offlinestore/copy_reader.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include <pqxx/pqxx>

#include "libs/testing/postgres_server.h"
#include "libs/testing/status_matchers.h"

namespace granary::offlinestore {
namespace {

using ::granary::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::Optional;

TEST(SplitCopyLineTest, FieldsEscapesAndNulls) {
  std::vector<std::optional<std::string>> fields;
  ASSERT_OK(SplitCopyLine("a\\tb\t\\N\t\t\\\\N\tx\\ny\\\\", &fields));
  EXPECT_THAT(fields, ElementsAre(Optional(Eq("a\tb")), Eq(std::nullopt), Optional(Eq("")),
                                  Optional(Eq("\\N")), Optional(Eq("x\ny\\"))));
  EXPECT_THAT(SplitCopyLine("ends with \\", &fields), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(SplitCopyLine("\\Nx", &fields), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(CopyReaderTest, StreamsEveryRowOfAStatementAsPostgresWroteIt) {
  ASSERT_OK_AND_ASSIGN(auto pg, testing::PostgresServer::Start());
  ASSERT_OK(pg->CreateDatabase("offline"));
  pqxx::connection conn(pg->ConnInfo("offline"));
  pqxx::work tx(conn);
  tx.exec("CREATE TABLE t (id bigint, note text)");
  const std::string awkward = "tab\there\nnewline \\ backslash \\N not null";
  tx.exec(absl::StrCat("INSERT INTO t SELECT g, CASE WHEN g % 7 = 0 THEN NULL ELSE ",
                       tx.quote(awkward), " || g END FROM generate_series(1, 20000) g"));
  {
    CopyReader reader(tx, "SELECT id, note FROM t ORDER BY id");
    std::vector<std::optional<std::string>> fields;
    int64_t rows = 0;
    while (true) {
      ASSERT_OK_AND_ASSIGN(bool more, reader.Next(&fields));
      if (!more) break;
      ++rows;
      ASSERT_EQ(fields.size(), 2u);
      ASSERT_EQ(fields[0], absl::StrCat(rows));
      if (rows % 7 == 0) {
        ASSERT_EQ(fields[1], std::nullopt) << rows;
      } else {
        ASSERT_EQ(fields[1], absl::StrCat(awkward, rows)) << rows;
      }
    }
    EXPECT_EQ(rows, 20000);
    ASSERT_OK_AND_ASSIGN(bool again, reader.Next(&fields));
    EXPECT_FALSE(again);
  }
  EXPECT_EQ(tx.exec("SELECT count(*) FROM t")[0][0].as<int>(), 20000);
  tx.commit();
  // Left early: the statement is cancelled, not read to its end (draining 50 million rows
  // would have left the transaction usable); the connection serves the next transaction.
  {
    pqxx::work early(conn);
    {
      CopyReader reader(early, "SELECT g FROM generate_series(1, 50000000) g");
      std::vector<std::optional<std::string>> fields;
      ASSERT_OK_AND_ASSIGN(bool more, reader.Next(&fields));
      EXPECT_TRUE(more);
    }
    EXPECT_THROW(early.exec("SELECT 1"), pqxx::sql_error);
  }
  // A statement PostgreSQL refuses: an error, with its SQLSTATE, not a crash.
  pqxx::work tx2(conn);
  CopyReader bad(tx2, "SELECT nothing FROM nowhere");
  std::vector<std::optional<std::string>> fields;
  absl::StatusOr<bool> failed = bad.Next(&fields);
  EXPECT_FALSE(failed.ok());
  EXPECT_THAT(failed.status().message(), ::testing::HasSubstr("nowhere"));
}

}  // namespace
}  // namespace granary::offlinestore
