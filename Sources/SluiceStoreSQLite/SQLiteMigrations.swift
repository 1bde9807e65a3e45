import GRDB
import SluiceCore
import SluiceStore

/// The SQLite schema, as numbered, append-only migrations: a released migration is never
/// edited, only followed by a new one.
enum SQLiteMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("001_jobs_and_items") { db in
            try db.execute(
                sql: """
                    CREATE TABLE jobs (
                        seq INTEGER PRIMARY KEY,
                        id TEXT NOT NULL UNIQUE,
                        owner TEXT NOT NULL,
                        name TEXT NOT NULL,
                        status TEXT NOT NULL,
                        status_reason TEXT,
                        spec TEXT NOT NULL,
                        sources TEXT NOT NULL,
                        fingerprint TEXT,
                        batch_size INTEGER NOT NULL,
                        max_attempts INTEGER NOT NULL,
                        total INTEGER NOT NULL DEFAULT 0,
                        pending INTEGER NOT NULL DEFAULT 0,
                        running INTEGER NOT NULL DEFAULT 0,
                        succeeded INTEGER NOT NULL DEFAULT 0,
                        failed INTEGER NOT NULL DEFAULT 0,
                        cancelled INTEGER NOT NULL DEFAULT 0,
                        prompt_tokens INTEGER NOT NULL DEFAULT 0,
                        completion_tokens INTEGER NOT NULL DEFAULT 0,
                        errors TEXT NOT NULL DEFAULT '[]',
                        served_seq INTEGER NOT NULL DEFAULT 0,
                        created_at REAL NOT NULL,
                        started_at REAL,
                        finished_at REAL
                    );
                    CREATE INDEX jobs_by_status ON jobs(status, served_seq);
                    CREATE INDEX jobs_by_owner ON jobs(owner, seq);
                    CREATE INDEX jobs_by_fingerprint ON jobs(fingerprint) WHERE fingerprint IS NOT NULL;

                    -- When each owner was last served a claim, so claims rotate across owners.
                    CREATE TABLE owners (
                        owner TEXT PRIMARY KEY,
                        served_seq INTEGER NOT NULL
                    ) WITHOUT ROWID;

                    CREATE TABLE items (
                        id INTEGER PRIMARY KEY,
                        job_seq INTEGER NOT NULL REFERENCES jobs(seq) ON DELETE CASCADE,
                        idx INTEGER NOT NULL,
                        group_key TEXT,
                        status TEXT NOT NULL,
                        input TEXT NOT NULL,
                        output TEXT,
                        error TEXT,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        lease_owner TEXT,
                        lease_expires_at REAL,
                        available_at REAL NOT NULL DEFAULT 0,
                        prompt_tokens INTEGER NOT NULL DEFAULT 0,
                        completion_tokens INTEGER NOT NULL DEFAULT 0,
                        model TEXT,
                        started_at REAL,
                        finished_at REAL,
                        UNIQUE (job_seq, idx)
                    );
                    CREATE INDEX items_by_status ON items(job_seq, status, idx);
                    CREATE INDEX items_by_group ON items(job_seq, group_key, idx) WHERE group_key IS NOT NULL;
                    CREATE INDEX items_by_lease ON items(lease_expires_at) WHERE status = 'running';
                    """)
        }
        migrator.registerMigration("002_api_files_keys") { db in
            try db.execute(
                sql: """
                    -- Batch API attributes (input file, endpoint, window, metadata) as JSON; NULL for native jobs.
                    ALTER TABLE jobs ADD COLUMN batch TEXT;
                    CREATE INDEX jobs_by_owner_kind ON jobs(owner, (batch IS NULL), seq);

                    CREATE TABLE files (
                        seq INTEGER PRIMARY KEY,
                        id TEXT NOT NULL UNIQUE,
                        owner TEXT NOT NULL,
                        filename TEXT NOT NULL,
                        purpose TEXT NOT NULL,
                        bytes INTEGER NOT NULL,
                        path TEXT NOT NULL,
                        created_at REAL NOT NULL
                    );
                    CREATE INDEX files_by_owner ON files(owner, seq);

                    CREATE TABLE api_keys (
                        id TEXT PRIMARY KEY,
                        user TEXT NOT NULL,
                        is_admin INTEGER NOT NULL,
                        hash TEXT NOT NULL UNIQUE,
                        prefix TEXT NOT NULL,
                        created_at REAL NOT NULL,
                        revoked_at REAL
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("003_job_expiry") { db in
            try db.execute(
                sql: """
                    ALTER TABLE jobs ADD COLUMN expires_at REAL;
                    CREATE INDEX jobs_by_expiry ON jobs(expires_at) WHERE expires_at IS NOT NULL;
                    """)
        }
        migrator.registerMigration("004_items_per_request") { db in
            try db.execute(
                sql: """
                    -- Claims are sized in model calls; a job that packs rows needs this many items per call.
                    ALTER TABLE jobs ADD COLUMN items_per_request INTEGER NOT NULL DEFAULT 1;
                    UPDATE jobs SET items_per_request = COALESCE(json_extract(spec, '$.items_per_request'), 1);
                    """)
        }
        // Rebuilds jobs and items (SQLite adds constraints no other way) with CHECKs on statuses
        // and counts, moves job errors to their own table (appended, never rewritten), takes
        // ingest leases, a race-free fairness counter, and renames the column `user` (reserved
        // in PostgreSQL). PostgreSQL's migration of the same name ends in the same schema.
        migrator.registerMigration("005_guarded_schema", foreignKeyChecks: .deferred) { db in
            try db.execute(
                sql: """
                    CREATE TABLE new_jobs (
                        seq INTEGER PRIMARY KEY,
                        id TEXT NOT NULL UNIQUE,
                        owner TEXT NOT NULL,
                        name TEXT NOT NULL,
                        status TEXT NOT NULL CHECK (status IN ('validating', 'queued', 'running', 'paused', 'cancelling', 'completed', 'completed_with_errors', 'failed', 'cancelled', 'expired')),
                        status_reason TEXT,
                        spec TEXT NOT NULL,
                        sources TEXT NOT NULL,
                        fingerprint TEXT,
                        batch TEXT,
                        batch_size INTEGER NOT NULL CHECK (batch_size > 0),
                        items_per_request INTEGER NOT NULL DEFAULT 1 CHECK (items_per_request > 0),
                        max_attempts INTEGER NOT NULL CHECK (max_attempts > 0),
                        total INTEGER NOT NULL DEFAULT 0,
                        pending INTEGER NOT NULL DEFAULT 0 CHECK (pending >= 0),
                        running INTEGER NOT NULL DEFAULT 0 CHECK (running >= 0),
                        succeeded INTEGER NOT NULL DEFAULT 0 CHECK (succeeded >= 0),
                        failed INTEGER NOT NULL DEFAULT 0 CHECK (failed >= 0),
                        cancelled INTEGER NOT NULL DEFAULT 0 CHECK (cancelled >= 0),
                        prompt_tokens INTEGER NOT NULL DEFAULT 0 CHECK (prompt_tokens >= 0),
                        completion_tokens INTEGER NOT NULL DEFAULT 0 CHECK (completion_tokens >= 0),
                        error_count INTEGER NOT NULL DEFAULT 0 CHECK (error_count >= 0),
                        served_seq INTEGER NOT NULL DEFAULT 0,
                        ingest_owner TEXT,
                        ingest_expires_at REAL,
                        created_at REAL NOT NULL,
                        started_at REAL,
                        finished_at REAL,
                        expires_at REAL,
                        CHECK (total = pending + running + succeeded + failed + cancelled)
                    );
                    INSERT INTO new_jobs (
                        seq, id, owner, name, status, status_reason, spec, sources, fingerprint, batch, batch_size, items_per_request,
                        max_attempts, total, pending, running, succeeded, failed, cancelled, prompt_tokens, completion_tokens,
                        error_count, served_seq, created_at, started_at, finished_at, expires_at
                    ) SELECT
                        seq, id, owner, name, status, status_reason, spec, sources, fingerprint, batch, batch_size, items_per_request,
                        max_attempts, total, pending, running, succeeded, failed, cancelled, prompt_tokens, completion_tokens,
                        json_array_length(errors), served_seq, created_at, started_at, finished_at, expires_at
                    FROM jobs;

                    CREATE TABLE job_errors (
                        job_seq INTEGER NOT NULL REFERENCES jobs(seq) ON DELETE CASCADE,
                        position INTEGER NOT NULL CHECK (position >= 0),
                        body TEXT NOT NULL,
                        PRIMARY KEY (job_seq, position)
                    ) WITHOUT ROWID;
                    INSERT INTO job_errors (job_seq, position, body)
                    SELECT jobs.seq, entry.key, entry.value FROM jobs, json_each(jobs.errors) AS entry;

                    -- No foreign key on items: checking one per row halved PostgreSQL's COPY, and
                    -- items are only ever added under their job's row lock and deleted with it.
                    CREATE TABLE new_items (
                        id INTEGER PRIMARY KEY,
                        job_seq INTEGER NOT NULL,
                        idx INTEGER NOT NULL CHECK (idx >= 0),
                        group_key TEXT,
                        status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')),
                        input TEXT NOT NULL,
                        output TEXT,
                        error TEXT,
                        attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                        lease_owner TEXT,
                        lease_expires_at REAL,
                        available_at REAL NOT NULL DEFAULT 0,
                        prompt_tokens INTEGER NOT NULL DEFAULT 0 CHECK (prompt_tokens >= 0),
                        completion_tokens INTEGER NOT NULL DEFAULT 0 CHECK (completion_tokens >= 0),
                        model TEXT,
                        started_at REAL,
                        finished_at REAL,
                        CHECK ((status = 'running') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
                        UNIQUE (job_seq, idx)
                    );
                    INSERT INTO new_items (
                        id, job_seq, idx, group_key, status, input, output, error, attempts, lease_owner, lease_expires_at,
                        available_at, prompt_tokens, completion_tokens, model, started_at, finished_at
                    ) SELECT
                        id, job_seq, idx, group_key, status, input, output, error, attempts, lease_owner, lease_expires_at,
                        available_at, prompt_tokens, completion_tokens, model, started_at, finished_at
                    FROM items;

                    DROP TABLE items;
                    DROP TABLE jobs;
                    ALTER TABLE new_jobs RENAME TO jobs;
                    ALTER TABLE new_items RENAME TO items;

                    CREATE INDEX jobs_by_status ON jobs(status, served_seq);
                    CREATE INDEX jobs_by_owner ON jobs(owner, seq);
                    CREATE INDEX jobs_by_fingerprint ON jobs(fingerprint) WHERE fingerprint IS NOT NULL;
                    CREATE INDEX jobs_by_owner_kind ON jobs(owner, (batch IS NULL), seq);
                    CREATE INDEX jobs_by_expiry ON jobs(expires_at) WHERE expires_at IS NOT NULL;
                    CREATE INDEX items_by_status ON items(job_seq, status, idx);
                    CREATE INDEX items_by_group ON items(job_seq, group_key, idx) WHERE group_key IS NOT NULL;
                    CREATE INDEX items_by_lease ON items(lease_expires_at) WHERE status = 'running';
                    CREATE INDEX items_by_lease_owner ON items(lease_owner) WHERE status = 'running';

                    ALTER TABLE api_keys RENAME COLUMN user TO user_name;

                    -- Counters handed out by one UPDATE … RETURNING each (PostgreSQL has sequences).
                    CREATE TABLE counters (
                        name TEXT PRIMARY KEY,
                        value INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    INSERT INTO counters (name, value) VALUES ('served_order', (SELECT COALESCE(MAX(served_seq), 0) FROM owners));
                    """)
        }
        migrator.registerMigration("006_provider_pace") { db in
            try db.execute(sql: SharedSchema.providerPace)
        }
        migrator.registerMigration("007_packs_cache_budgets") { db in
            for statement in SharedSchema.packsCacheBudgets { try db.execute(sql: statement) }
        }
        migrator.registerMigration("008_web_sessions_activity") { db in
            for statement in SharedSchema.webSessionsActivity { try db.execute(sql: statement) }
        }
        migrator.registerMigration("009_batch_apis") { db in
            for statement in SharedSchema.batchAPIs { try db.execute(sql: statement) }
        }
        migrator.registerMigration("010_tenant_safety") { db in
            for statement in SharedSchema.tenantSafety { try db.execute(sql: statement) }
        }
        migrator.registerMigration("011_claim_allowance") { db in
            for statement in SharedSchema.claimAllowance + SharedSchema.resultCacheByKey(rowStorage: " WITHOUT ROWID") {
                try db.execute(sql: statement)
            }
            try db.execute(
                sql: "UPDATE jobs SET provider = json_extract(spec, '$.provider') WHERE json_extract(spec, '$.provider') <> ?",
                arguments: [JobSpec.routedProvider])
        }
        migrator.registerMigration("012_item_cache_key") { db in
            for statement in SharedSchema.itemCacheKey { try db.execute(sql: statement) }
        }
        migrator.registerMigration("013_cache_and_reasoning_tokens") { db in
            for statement in SharedSchema.cacheAndReasoningTokens { try db.execute(sql: statement) }
        }
        migrator.registerMigration("014_reply_limits") { db in
            for statement in SharedSchema.replyLimits { try db.execute(sql: statement) }
        }
        migrator.registerMigration("015_tier_savings") { db in
            for statement in SharedSchema.tierSavings { try db.execute(sql: statement) }
        }
        migrator.registerMigration("016_upstream_batches") { db in
            for statement in SharedSchema.upstreamBatches { try db.execute(sql: statement) }
        }
        migrator.registerMigration("017_job_priority") { db in
            for statement in SharedSchema.jobPriority { try db.execute(sql: statement) }
        }
        migrator.registerMigration("018_key_controls") { db in
            for statement in SharedSchema.keyControls { try db.execute(sql: statement) }
        }
        migrator.registerMigration("019_provider_readings") { db in
            for statement in SharedSchema.providerReadings { try db.execute(sql: statement) }
        }
        migrator.registerMigration("020_job_trace") { db in
            for statement in SharedSchema.jobTrace { try db.execute(sql: statement) }
        }
        return migrator
    }
}
