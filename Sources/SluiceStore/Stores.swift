/// The queue and the small stores beside it, as a process hands them to code that needs
/// several (the HTTP routes); each part of that code keeps only the ones it uses.
public struct Stores: Sendable {
    public var queue: any JobStore
    public var files: any FileStore
    public var keys: any KeyStore
    public var webhooks: any WebhookStore
    public var uploads: any UploadStore
    public var idempotency: any IdempotencyStore
    public var usage: any UsageStore
    public var readings: any ProviderReadingStore

    public init(
        queue: any JobStore, files: any FileStore, keys: any KeyStore, webhooks: any WebhookStore, uploads: any UploadStore,
        idempotency: any IdempotencyStore, usage: any UsageStore, readings: any ProviderReadingStore
    ) {
        self.usage = usage
        self.readings = readings
        self.queue = queue
        self.files = files
        self.keys = keys
        self.webhooks = webhooks
        self.uploads = uploads
        self.idempotency = idempotency
    }
}

extension SQLJobStore {
    /// This store's parts, as ``Stores``.
    public var stores: Stores {
        Stores(
            queue: self, files: files, keys: keys, webhooks: webhooks, uploads: uploads, idempotency: idempotency, usage: usage,
            readings: readings)
    }
}
