import AssayEvaluators
import AssayMetrics
import Foundation
import GRDB

/// The store keeps each item's result as it finishes (`item_cache`), so that a run killed or
/// interrupted part-way can be resumed (`assay run --resume`) without doing those items again.
extension ResultsStore: ItemCache {
    /// The row kept under `key`; nil when there is none or it cannot be read (it is then redone).
    public func row(forKey key: String) -> ItemRow? {
        guard let found = try? pool.read({ db in
            try Row.fetchOne(db, sql: "SELECT item_id, stats FROM item_cache WHERE key = ?", arguments: [key])
        }), let id: String = found["item_id"], let stats: String = found["stats"],
            let values = try? JSONDecoder().decode([String: JSONValue].self, from: Data(stats.utf8)) else { return nil }
        return ItemRow(id: id, values: values)
    }

    /// Keeps `row` under `key`, committed at once. A failure to write is not the run's failure:
    /// the row is only lost for a later `--resume`.
    public func record(_ row: ItemRow, forKey key: String) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let stats = try? encoder.encode(row.maskingSecrets().values) else { return }
        _ = try? pool.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO item_cache (key, item_id, stats, created) VALUES (?, ?, ?, ?)",
                           arguments: [key, row.id, String(decoding: stats, as: UTF8.self), Self.timestamp(Date())])
        }
    }

    /// The rows kept under `keys`, read 500 keys a query; rows that cannot be read are left out
    /// (those items are redone).
    public func rows(forKeys keys: [String]) -> [String: ItemRow] {
        var found: [String: ItemRow] = [:]
        for start in stride(from: 0, to: keys.count, by: 500) {
            let batch = Array(keys[start..<min(start + 500, keys.count)])
            let placeholders = Array(repeating: "?", count: batch.count).joined(separator: ",")
            guard let rows = try? pool.read({ db in
                try Row.fetchAll(db, sql: "SELECT key, item_id, stats FROM item_cache WHERE key IN (\(placeholders))", arguments: StatementArguments(batch))
            }) else { continue }
            for row in rows {
                guard let key: String = row["key"], let id: String = row["item_id"], let stats: String = row["stats"],
                      let values = try? JSONDecoder().decode([String: JSONValue].self, from: Data(stats.utf8)) else { continue }
                found[key] = ItemRow(id: id, values: values)
            }
        }
        return found
    }

    /// Keeps `rows` in one transaction (a kill loses the block in progress, never part of one).
    public func record(_ rows: [(key: String, row: ItemRow)]) {
        guard !rows.isEmpty else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let created = Self.timestamp(Date())
        _ = try? pool.write { db in
            for (key, row) in rows {
                guard let stats = try? encoder.encode(row.maskingSecrets().values) else { continue }
                try db.execute(sql: "INSERT OR REPLACE INTO item_cache (key, item_id, stats, created) VALUES (?, ?, ?, ?)",
                               arguments: [key, row.id, String(decoding: stats, as: UTF8.self), created])
            }
        }
    }

    /// Removes rows kept longer than `days` (7): a run killed a week ago is not resumed, and the
    /// table stays the size of recent work. Results kept for `--reuse` and BERTScore reference
    /// embeddings go after `reuseDays` (30).
    /// Commands that open the store call it.
    public func pruneItemCache(olderThan days: Double = 7, reuseDays: Double = 30, now: Date = Date()) throws {
        try write { db in
            try db.execute(sql: "DELETE FROM item_cache WHERE created < ?", arguments: [Self.timestamp(now.addingTimeInterval(-days * 86_400))])
            try db.execute(sql: "DELETE FROM evaluation_cache WHERE created < ?", arguments: [Self.timestamp(now.addingTimeInterval(-reuseDays * 86_400))])
            try db.execute(sql: "DELETE FROM embedding_cache WHERE created < ?", arguments: [Self.timestamp(now.addingTimeInterval(-reuseDays * 86_400))])
        }
    }

    /// Rows kept for `--resume`.
    public func cachedItemCount() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM item_cache") ?? 0 }
    }
}

/// Whole evaluation results, kept after each successful evaluation, for `assay run --reuse`.
extension ResultsStore: ResultCache {
    /// The result kept under `key`; nil when there is none or it cannot be read (it is then redone).
    public func result(forKey key: String) -> (result: EvaluationResult, runID: String)? {
        guard let found = try? pool.read({ db in
            try Row.fetchOne(db, sql: "SELECT run_id, result FROM evaluation_cache WHERE key = ?", arguments: [key])
        }), let runID: String = found["run_id"], let text: String = found["result"],
            let result = try? JSONDecoder().decode(EvaluationResult.self, from: Data(text.utf8)) else { return nil }
        return (result, runID)
    }

    /// Keeps `result` under `key`, replacing what was there.
    public func keep(_ result: EvaluationResult, forKey key: String, runID: String) {
        guard let data = try? JSONEncoder().encode(result) else { return }
        _ = try? pool.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO evaluation_cache (key, run_id, result, created) VALUES (?, ?, ?, ?)",
                           arguments: [key, runID, String(decoding: data, as: UTF8.self), Self.timestamp(Date())])
        }
    }
}

/// BERTScore reference embeddings, for a gate that scores new candidates against fixed references.
extension ResultsStore: BERTScore.EmbeddingCache {
    /// The embeddings kept under `keys` (those that are present and read back whole).
    public func embeddings(forKeys keys: [String]) -> [String: BERTScore.Embedding] {
        var found: [String: BERTScore.Embedding] = [:]
        for start in stride(from: 0, to: keys.count, by: 500) {
            let batch = Array(keys[start..<min(start + 500, keys.count)])
            let placeholders = Array(repeating: "?", count: batch.count).joined(separator: ",")
            guard let rows = try? pool.read({ db in
                try Row.fetchAll(db, sql: "SELECT key, tokens, vectors, dimension FROM embedding_cache WHERE key IN (\(placeholders))",
                                 arguments: StatementArguments(batch))
            }) else { continue }
            for row in rows {
                guard let key: String = row["key"], let tokens: Data = row["tokens"], let vectors: Data = row["vectors"],
                      let dimension: Int = row["dimension"],
                      let embedding = BERTScore.Embedding(tokenData: tokens, vectorData: vectors, dimension: dimension) else { continue }
                found[key] = embedding
            }
        }
        return found
    }

    /// Keeps `embeddings` in one transaction.
    public func keep(_ embeddings: [(key: String, embedding: BERTScore.Embedding)]) {
        guard !embeddings.isEmpty else { return }
        let created = Self.timestamp(Date())
        _ = try? pool.write { db in
            for (key, embedding) in embeddings {
                try db.execute(sql: "INSERT OR REPLACE INTO embedding_cache (key, tokens, vectors, dimension, created) VALUES (?, ?, ?, ?, ?)",
                               arguments: [key, embedding.tokenData, embedding.vectorData, embedding.dimension, created])
            }
        }
    }

    /// Reference embeddings kept for BERTScore.
    public func cachedEmbeddingCount() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM embedding_cache") ?? 0 }
    }
}
