//! The two migration sets (migrations/sqlite, migrations/postgres) give the same
//! tables, columns (name, order, NULL or NOT NULL, kind of value) and indexes. Needs
//! `LATCHKEY_TEST_POSTGRES` (scripts/test.sh sets it for its run against PostgreSQL).

use crate::common;
use latchkey::server::temp_dir::TempDir;
use sqlx::Row;
use std::collections::BTreeMap;

/// Table -> (columns as "name kind null|not-null", indexes as "columns [unique]").
type Schema = BTreeMap<String, (Vec<String>, Vec<String>)>;

fn kind(declared: &str) -> &'static str {
    let t = declared.to_ascii_lowercase();
    if t.contains("int") {
        "integer"
    } else if t.contains("text") || t.contains("char") {
        "text"
    } else if t.contains("blob") || t.contains("bytea") {
        "bytes"
    } else {
        "other"
    }
}

async fn sqlite_schema(db: &sqlx::AnyPool) -> Schema {
    let mut schema = Schema::new();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table'
         AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%' ORDER BY name",
    )
    .fetch_all(db)
    .await
    .unwrap();
    for table in tables {
        let mut columns = Vec::new();
        for row in sqlx::query(&format!(
            "SELECT name, type, \"notnull\", pk FROM pragma_table_info('{table}') ORDER BY cid"
        ))
        .fetch_all(db)
        .await
        .unwrap()
        {
            let name: String = row.get(0);
            let declared: String = row.get(1);
            // A primary key column is never NULL (SQLite's rowid alias says so implicitly).
            let not_null = row.get::<i64, _>(2) == 1 || row.get::<i64, _>(3) > 0;
            columns.push(format!(
                "{name} {} {}",
                kind(&declared),
                null_word(not_null)
            ));
        }
        let mut indexes = Vec::new();
        for row in sqlx::query(&format!(
            "SELECT name, \"unique\", origin FROM pragma_index_list('{table}')"
        ))
        .fetch_all(db)
        .await
        .unwrap()
        {
            let index: String = row.get(0);
            let unique = row.get::<i64, _>(1) == 1;
            let cols: Vec<String> = sqlx::query_scalar(&format!(
                "SELECT name FROM pragma_index_info('{index}') ORDER BY seqno"
            ))
            .fetch_all(db)
            .await
            .unwrap();
            indexes.push(index_entry(&cols, unique));
        }
        // SQLite's INTEGER PRIMARY KEY is the rowid, not an index: list it as one.
        let pk: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT name FROM pragma_table_info('{table}') WHERE pk > 0 ORDER BY pk"
        ))
        .fetch_all(db)
        .await
        .unwrap();
        let pk_entry = index_entry(&pk, true);
        if !pk.is_empty() && !indexes.contains(&pk_entry) {
            indexes.push(pk_entry);
        }
        indexes.sort();
        schema.insert(table, (columns, indexes));
    }
    schema
}

async fn postgres_schema(db: &sqlx::AnyPool) -> Schema {
    let mut schema = Schema::new();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = 'public' AND table_name NOT LIKE '\\_sqlx%' ORDER BY table_name",
    )
    .fetch_all(db)
    .await
    .unwrap();
    for table in tables {
        let mut columns = Vec::new();
        for row in sqlx::query(
            "SELECT column_name::text, data_type::text, is_nullable::text
             FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
        )
        .bind(&table)
        .fetch_all(db)
        .await
        .unwrap()
        {
            let name: String = row.get(0);
            let declared: String = row.get(1);
            let nullable: String = row.get(2);
            columns.push(format!(
                "{name} {} {}",
                kind(&declared),
                null_word(nullable == "NO")
            ));
        }
        let mut indexes = Vec::new();
        for row in sqlx::query(
            "SELECT ix.indisunique, array_to_string(array_agg(a.attname::text ORDER BY k.n), ',')
             FROM pg_index ix
             JOIN pg_class t ON t.oid = ix.indrelid
             JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, n) ON true
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
             WHERE t.relname = $1 AND t.relnamespace = 'public'::regnamespace
             GROUP BY ix.indexrelid, ix.indisunique",
        )
        .bind(&table)
        .fetch_all(db)
        .await
        .unwrap()
        {
            let unique: bool = row.get(0);
            let cols: String = row.get(1);
            let cols: Vec<String> = cols.split(',').map(str::to_string).collect();
            indexes.push(index_entry(&cols, unique));
        }
        indexes.sort();
        schema.insert(table, (columns, indexes));
    }
    schema
}

fn null_word(not_null: bool) -> &'static str {
    if not_null {
        "not-null"
    } else {
        "null"
    }
}

fn index_entry(cols: &[String], unique: bool) -> String {
    format!(
        "({}){}",
        cols.join(", "),
        if unique { " unique" } else { "" }
    )
}

#[tokio::test]
async fn both_migration_sets_give_the_same_schema() {
    let Ok(server) = std::env::var("LATCHKEY_TEST_POSTGRES") else {
        eprintln!("skipped here: set LATCHKEY_TEST_POSTGRES (scripts/test.sh does)");
        return;
    };
    let dir = TempDir::new().unwrap();
    let lite = latchkey::server::store::connect(
        &format!("sqlite://{}/schema.db", dir.path().display()),
        2,
    )
    .await
    .unwrap();
    let pg_url = common::fresh_postgres_database(&server).await;
    let pg = latchkey::server::store::connect(&pg_url, 2).await.unwrap();
    let (lite, pg) = (sqlite_schema(&lite).await, postgres_schema(&pg).await);
    assert!(lite.len() >= 9, "{lite:#?}");
    assert!(lite.contains_key("recovery_codes"));
    let tables = |s: &Schema| s.keys().cloned().collect::<Vec<_>>();
    assert_eq!(tables(&lite), tables(&pg));
    for (table, (columns, indexes)) in &lite {
        let (pg_columns, pg_indexes) = &pg[table];
        assert_eq!(columns, pg_columns, "columns of {table}");
        assert_eq!(indexes, pg_indexes, "indexes of {table}");
    }
}

/// Instances starting at the same moment on one empty database each migrate it,
/// and every one of them comes up (on SQLite, and on PostgreSQL when it is there).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_starting_together_on_an_empty_database_all_come_up() {
    let dir = TempDir::new().unwrap();
    let mut urls = vec![format!("sqlite://{}/shared.db", dir.path().display())];
    if let Ok(server) = std::env::var("LATCHKEY_TEST_POSTGRES") {
        urls.push(common::fresh_postgres_database(&server).await);
    }
    for url in urls {
        let starts: Vec<_> = (0..8)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { latchkey::server::store::connect(&url, 2).await })
            })
            .collect();
        for start in starts {
            let db = start
                .await
                .unwrap()
                .unwrap_or_else(|e| panic!("{url}: {e}"));
            let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
                .fetch_one(&db)
                .await
                .unwrap();
            let shipped = std::fs::read_dir("migrations/sqlite").unwrap().count() as i64;
            assert_eq!(applied, shipped, "{url}");
        }
    }
}
