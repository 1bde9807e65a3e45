import SluiceCore

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

extension SharedSchema {
    /// Migration `009_batch_apis`: what the wider batch APIs need of the schema.
    ///
    /// Files may expire. A job is `announced` once its ending's webhook deliveries are in the
    /// outbox (jobs that ended before this migration count as announced: nobody was listening).
    /// `webhook_endpoints` keep their signing secret (it must sign, so it cannot be a hash);
    /// `webhook_deliveries` is the outbox — one row per event and endpoint, its id the
    /// `webhook-id` every attempt carries — and `webhook_attempts` what each try got.
    /// `idempotency_keys` remember a create's answer by the caller's key; `uploads` and
    /// `upload_parts` hold a chunked upload until it completes into a file.
    public static let batchAPIs = [
        "ALTER TABLE files ADD COLUMN expires_at DOUBLE PRECISION",
        "CREATE INDEX files_by_expiry ON files(expires_at) WHERE expires_at IS NOT NULL",
        "ALTER TABLE jobs ADD COLUMN announced INTEGER NOT NULL DEFAULT 0 CHECK (announced IN (0, 1))",
        "UPDATE jobs SET announced = 1 WHERE status IN ('completed', 'completed_with_errors', 'failed', 'cancelled', 'expired')",
        "CREATE INDEX jobs_unannounced ON jobs(seq) WHERE announced = 0",
        """
        CREATE TABLE webhook_endpoints (
            id TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            url TEXT NOT NULL,
            events TEXT NOT NULL,
            secret TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL
        )
        """,
        "CREATE INDEX webhook_endpoints_by_owner ON webhook_endpoints(owner, created_at)",
        """
        CREATE TABLE webhook_deliveries (
            id TEXT PRIMARY KEY,
            endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
            event_type TEXT NOT NULL,
            subject TEXT NOT NULL,
            payload TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            next_attempt_at DOUBLE PRECISION NOT NULL,
            lease_owner TEXT,
            lease_expires_at DOUBLE PRECISION,
            created_at DOUBLE PRECISION NOT NULL,
            finished_at DOUBLE PRECISION
        )
        """,
        "CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE status = 'pending'",
        "CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries(endpoint_id, created_at)",
        """
        CREATE TABLE webhook_attempts (
            delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
            attempt INTEGER NOT NULL CHECK (attempt > 0),
            at DOUBLE PRECISION NOT NULL,
            status_code INTEGER,
            error TEXT,
            PRIMARY KEY (delivery_id, attempt)
        )
        """,
        """
        CREATE TABLE idempotency_keys (
            owner TEXT NOT NULL,
            key TEXT NOT NULL,
            route TEXT NOT NULL,
            fingerprint TEXT,
            response TEXT,
            created_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (owner, key)
        )
        """,
        "CREATE INDEX idempotency_keys_by_age ON idempotency_keys(created_at)",
        """
        CREATE TABLE uploads (
            id TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            filename TEXT NOT NULL,
            purpose TEXT NOT NULL,
            mime_type TEXT NOT NULL,
            bytes BIGINT NOT NULL CHECK (bytes >= 0),
            status TEXT NOT NULL CHECK (status IN ('pending', 'completed', 'cancelled', 'expired')),
            file_id TEXT,
            file_expires_after BIGINT,
            created_at DOUBLE PRECISION NOT NULL,
            expires_at DOUBLE PRECISION NOT NULL
        )
        """,
        "CREATE INDEX uploads_pending_by_expiry ON uploads(expires_at) WHERE status = 'pending'",
        """
        CREATE TABLE upload_parts (
            id TEXT PRIMARY KEY,
            upload_id TEXT NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,
            bytes BIGINT NOT NULL CHECK (bytes >= 0),
            path TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL
        )
        """,
        "CREATE INDEX upload_parts_by_upload ON upload_parts(upload_id)",
    ]
}

extension SharedSchema {
    /// Migration `010_tenant_safety`: what safety between users needs of the schema.
    ///
    /// Cache entries expire, so the housekeeper finds old ones by age. Jobs remember how many
    /// bytes of upload they keep, so a user's storage can be summed for their quota; uploads in
    /// progress are found by owner. `output_sizes` keeps the byte size of a batch's output and
    /// error files once measured (they are written from the items on each read, and a file's
    /// metadata once rendered the whole file to count it), under the etag they were measured at.
    public static let tenantSafety = [
        """
        CREATE TABLE output_sizes (
            job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            etag TEXT NOT NULL,
            bytes BIGINT NOT NULL CHECK (bytes >= 0),
            PRIMARY KEY (job_id, kind)
        )
        """,
        "CREATE INDEX result_cache_created ON result_cache (created_at)",
        "ALTER TABLE jobs ADD COLUMN input_bytes BIGINT NOT NULL DEFAULT 0 CHECK (input_bytes >= 0)",
        "CREATE INDEX uploads_by_owner ON uploads (owner, status)",
    ]

    /// The provider a job calls (`NULL` when its items route by model), so that a claim can
    /// pass over jobs whose provider this worker cannot start soon. Each driver fills it in for
    /// the jobs already stored from their spec's JSON.
    public static let claimAllowance = [
        "ALTER TABLE jobs ADD COLUMN provider TEXT"
    ]

    /// Each recorded answer's result-cache key, kept on its item until the job ends; the answers
    /// are then copied into the cache in one statement, in key order (``SQLJobStore/finalize``).
    public static let itemCacheKey = [
        "ALTER TABLE items ADD COLUMN cache_key TEXT"
    ]

    /// The parts of a call's tokens billed apart — read from the prompt cache, written to it,
    /// spent reasoning — per item and summed per job, and how each item's reply ended.
    public static let cacheAndReasoningTokens = [
        "ALTER TABLE items ADD COLUMN cached_tokens BIGINT NOT NULL DEFAULT 0 CHECK (cached_tokens >= 0)",
        "ALTER TABLE items ADD COLUMN cache_write_tokens BIGINT NOT NULL DEFAULT 0 CHECK (cache_write_tokens >= 0)",
        "ALTER TABLE items ADD COLUMN reasoning_tokens BIGINT NOT NULL DEFAULT 0 CHECK (reasoning_tokens >= 0)",
        "ALTER TABLE items ADD COLUMN finish_reason TEXT",
        "ALTER TABLE jobs ADD COLUMN cached_tokens BIGINT NOT NULL DEFAULT 0 CHECK (cached_tokens >= 0)",
        "ALTER TABLE jobs ADD COLUMN cache_write_tokens BIGINT NOT NULL DEFAULT 0 CHECK (cache_write_tokens >= 0)",
        "ALTER TABLE jobs ADD COLUMN reasoning_tokens BIGINT NOT NULL DEFAULT 0 CHECK (reasoning_tokens >= 0)",
    ]

    /// The reply-token limit an item's next call asks for, raised after a reply cut empty at
    /// its limit, and the cap it grows to (a column, so a resume can raise it).
    public static let replyLimits = [
        "ALTER TABLE items ADD COLUMN reply_tokens BIGINT CHECK (reply_tokens > 0)",
        "ALTER TABLE jobs ADD COLUMN reply_token_cap BIGINT CHECK (reply_token_cap > 0)",
    ]

    /// What a job's calls would have cost at the list price, and how many were served at the
    /// flex tier or through a batch API: the job's savings, told.
    public static let tierSavings = [
        "ALTER TABLE jobs ADD COLUMN list_cost_micros BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE jobs ADD COLUMN flex_calls BIGINT NOT NULL DEFAULT 0 CHECK (flex_calls >= 0)",
        "ALTER TABLE jobs ADD COLUMN batch_calls BIGINT NOT NULL DEFAULT 0 CHECK (batch_calls >= 0)",
    ]

    /// Jobs whose items go through a provider's batch API: until `batch_until`, their pending
    /// items are for the batch dispatcher, not live claims. Each upstream batch is a row — its
    /// provider's id for it, the calls it holds by custom id, when to look at it next, and the
    /// worker looking now — so a restart, or another worker, carries on where one stopped.
    public static let upstreamBatches = [
        "ALTER TABLE jobs ADD COLUMN batch_until DOUBLE PRECISION",
        """
        CREATE TABLE upstream_batches (
            id TEXT PRIMARY KEY,
            job_seq BIGINT NOT NULL REFERENCES jobs(seq) ON DELETE CASCADE,
            provider TEXT NOT NULL,
            upstream_id TEXT,
            status TEXT NOT NULL CHECK (status IN ('submitting', 'running', 'cancelling')),
            units TEXT,
            tokens BIGINT NOT NULL DEFAULT 0,
            created_at DOUBLE PRECISION NOT NULL,
            next_poll_at DOUBLE PRECISION NOT NULL,
            polls INTEGER NOT NULL DEFAULT 0,
            lease_owner TEXT,
            lease_expires_at DOUBLE PRECISION
        )
        """,
        "CREATE INDEX upstream_batches_due ON upstream_batches (next_poll_at)",
        "CREATE INDEX upstream_batches_job ON upstream_batches (job_seq)",
    ]

    /// Which of an owner's jobs a claim takes first: `high` 1, `normal` 0, `low` -1.
    public static let jobPriority = [
        "ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0 CHECK (priority BETWEEN -1 AND 1)"
    ]

    /// Controls per API key — its weight in the fair share, what its jobs may spend per day and
    /// month — and the usage ledger those limits are checked against: what each call spent, per
    /// UTC day, user, key, provider and model, written by the statement that records the call.
    /// A job keeps the key that created it, and until when a quota pause holds it.
    public static let keyControls = [
        "ALTER TABLE api_keys ADD COLUMN weight INTEGER NOT NULL DEFAULT 1 CHECK (weight BETWEEN 1 AND 100)",
        "ALTER TABLE api_keys ADD COLUMN tokens_per_day BIGINT CHECK (tokens_per_day > 0)",
        "ALTER TABLE api_keys ADD COLUMN tokens_per_month BIGINT CHECK (tokens_per_month > 0)",
        "ALTER TABLE api_keys ADD COLUMN cost_micros_per_day BIGINT CHECK (cost_micros_per_day > 0)",
        "ALTER TABLE api_keys ADD COLUMN cost_micros_per_month BIGINT CHECK (cost_micros_per_month > 0)",
        "ALTER TABLE jobs ADD COLUMN key_id TEXT",
        "ALTER TABLE jobs ADD COLUMN quota_until DOUBLE PRECISION",
        """
        CREATE TABLE usage_days (
            day TEXT NOT NULL,
            owner TEXT NOT NULL,
            key_id TEXT NOT NULL,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            calls BIGINT NOT NULL DEFAULT 0,
            prompt_tokens BIGINT NOT NULL DEFAULT 0,
            completion_tokens BIGINT NOT NULL DEFAULT 0,
            cached_tokens BIGINT NOT NULL DEFAULT 0,
            cost_micros BIGINT NOT NULL DEFAULT 0,
            PRIMARY KEY (day, owner, key_id, provider, model)
        )
        """,
        "CREATE INDEX usage_days_by_key ON usage_days (key_id, day)",
        "CREATE INDEX jobs_quota_paused ON jobs (quota_until) WHERE quota_until IS NOT NULL",
    ]

    /// Migration `019_provider_readings`: what each worker's gate knows of each provider key's
    /// limits (see ``ProviderReadingStore``), replaced by the worker every heartbeat.
    public static let providerReadings = [
        """
        CREATE TABLE provider_readings (
            provider TEXT NOT NULL,
            worker TEXT NOT NULL,
            source TEXT NOT NULL,
            requests_per_minute DOUBLE PRECISION,
            paced_requests_per_minute DOUBLE PRECISION,
            tokens_per_minute DOUBLE PRECISION,
            paced_tokens_per_minute DOUBLE PRECISION,
            blocked_until DOUBLE PRECISION,
            circuit_open_until DOUBLE PRECISION,
            bursts_allowed INTEGER NOT NULL CHECK (bursts_allowed IN (0, 1)),
            calls_in_flight INTEGER NOT NULL CHECK (calls_in_flight >= 0),
            reported_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (provider, worker)
        )
        """,
        "CREATE INDEX provider_readings_by_time ON provider_readings (reported_at)",
    ]

    /// Migration `020_job_trace`: the trace context a job was created in (a JSON object of the
    /// propagation headers), so its calls join the creating request's trace.
    public static let jobTrace = ["ALTER TABLE jobs ADD COLUMN trace_context TEXT"]

    /// The result cache again, for keys of `ResultCacheKeys` version 2 (earlier entries can
    /// no longer match, so they go). `rowStorage` is SQLite's `WITHOUT ROWID`: the row lives in
    /// the key's b-tree, written once instead of in a table and an index.
    public static func resultCacheByKey(rowStorage: String) -> [String] {
        [
            "DROP TABLE result_cache",
            """
            CREATE TABLE result_cache (
                key TEXT PRIMARY KEY,
                output TEXT NOT NULL,
                model TEXT,
                created_at DOUBLE PRECISION NOT NULL
            )\(rowStorage)
            """,
            "CREATE INDEX result_cache_created ON result_cache (created_at)",
        ]
    }
}
