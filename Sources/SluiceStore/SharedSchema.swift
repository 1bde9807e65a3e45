/// Schema statements whose text is the same on every driver: written once, applied by each
/// driver's migration of the same name.
public enum SharedSchema {
    /// Each provider's shared schedule (see ``PaceStore``): when the next call and the next
    /// token are free, in seconds since 1970, and the holds a 429 or an opened circuit put on it.
    public static let providerPace = """
        CREATE TABLE provider_pace (
            provider TEXT PRIMARY KEY,
            request_due DOUBLE PRECISION NOT NULL DEFAULT 0,
            token_due DOUBLE PRECISION NOT NULL DEFAULT 0,
            blocked_until DOUBLE PRECISION NOT NULL DEFAULT 0,
            circuit_open_until DOUBLE PRECISION NOT NULL DEFAULT 0
        )
        """
}

extension SharedSchema {
    /// Migration `007_packs_cache_budgets`: what the plans' workloads need of the schema.
    ///
    /// Jobs count their calls, cache hits and cost next to their tokens; carry their caps and
    /// failure brake as columns so a claim can check them in SQL; keep the outcomes (`s`/`f`,
    /// latest last) of their last `brake_window` finished items; say which step they are in; and,
    /// for a map-then-reduce job, how many characters of parts one reduce call takes.
    /// Items remember the largest pack they may go in next, whether their output came from the
    /// cache, and their round (0 for the map, 1… for the reduce rounds over earlier outputs).
    /// `result_cache` holds validated outputs by the hash of the request that produced them.
    public static let packsCacheBudgets = [
        "ALTER TABLE jobs ADD COLUMN calls BIGINT NOT NULL DEFAULT 0 CHECK (calls >= 0)",
        "ALTER TABLE jobs ADD COLUMN cached BIGINT NOT NULL DEFAULT 0 CHECK (cached >= 0)",
        "ALTER TABLE jobs ADD COLUMN cost_micros BIGINT NOT NULL DEFAULT 0 CHECK (cost_micros >= 0)",
        "ALTER TABLE jobs ADD COLUMN budget_tokens BIGINT CHECK (budget_tokens > 0)",
        "ALTER TABLE jobs ADD COLUMN budget_cost_micros BIGINT CHECK (budget_cost_micros > 0)",
        "ALTER TABLE jobs ADD COLUMN brake_window INTEGER CHECK (brake_window > 0)",
        "ALTER TABLE jobs ADD COLUMN brake_rate DOUBLE PRECISION CHECK (brake_rate > 0 AND brake_rate <= 1)",
        "ALTER TABLE jobs ADD COLUMN recent_outcomes TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE jobs ADD COLUMN stage TEXT",
        "ALTER TABLE jobs ADD COLUMN stage_message TEXT",
        "ALTER TABLE jobs ADD COLUMN reduce_chars INTEGER CHECK (reduce_chars > 0)",
        "ALTER TABLE items ADD COLUMN pack_size INTEGER CHECK (pack_size > 0)",
        "ALTER TABLE items ADD COLUMN cached INTEGER NOT NULL DEFAULT 0 CHECK (cached IN (0, 1))",
        "ALTER TABLE items ADD COLUMN round INTEGER NOT NULL DEFAULT 0 CHECK (round >= 0)",
        """
        CREATE TABLE result_cache (
            key TEXT PRIMARY KEY,
            output TEXT NOT NULL,
            model TEXT,
            created_at DOUBLE PRECISION NOT NULL
        )
        """,
    ]
}

extension SharedSchema {
    /// Migration `008_web_sessions_activity`: what the web page needs of the schema.
    ///
    /// `web_sessions` are signed-in browsers: the SHA-256 of the cookie's secret (never the
    /// secret), the API key it was opened with (revoking the key ends its sessions; deleting it
    /// removes them) and when it expires. `job_activity` counts, per job and per
    /// ``JobActivity/bucketSeconds`` of wall time, the items finished and the items the provider's
    /// 429s sent back to wait: written in the transaction that records them, read for the job page's chart.
    public static let webSessionsActivity = [
        """
        CREATE TABLE web_sessions (
            hash TEXT PRIMARY KEY,
            key_id TEXT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
            created_at DOUBLE PRECISION NOT NULL,
            expires_at DOUBLE PRECISION NOT NULL
        )
        """,
        "CREATE INDEX web_sessions_by_expiry ON web_sessions(expires_at)",
        """
        CREATE TABLE job_activity (
            job_seq BIGINT NOT NULL REFERENCES jobs(seq) ON DELETE CASCADE,
            bucket BIGINT NOT NULL,
            finished BIGINT NOT NULL DEFAULT 0 CHECK (finished >= 0),
            throttled BIGINT NOT NULL DEFAULT 0 CHECK (throttled >= 0),
            PRIMARY KEY (job_seq, bucket)
        )
        """,
    ]
}
