import GRDB

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
        return migrator
    }
}
