/// What models cost, per million tokens, from the configuration's `prices:` — the basis of cost
/// budgets and of each job's `cost_usd`.
///
/// ```yaml
/// prices:
///   gpt-4o-mini: {input_per_million: 0.15, output_per_million: 0.60, cached_input_per_million: 0.075}
///   "claude-*": {input_per_million: 3, output_per_million: 15, cached_input_per_million: 0.30, cache_write_per_million: 3.75}
/// ```
/// Input tokens read from the provider's prompt cache cost `cached_input_per_million`, and those
/// written to it `cache_write_per_million`; either left out costs `input_per_million`. Calls
/// served at the flex tier or through the provider's batch API cost `flex_price_factor` and
/// `batch_price_factor` of that (0.5 when left out: the half price OpenAI, Anthropic, Gemini
/// and Azure publish for both).
/// Patterns take `*` as model routes do; the first match wins. A model with no price costs
/// nothing here, and a job cannot set a cost budget for it.
public struct ModelPrices: Sendable, Equatable {
    public struct Price: Sendable, Equatable {
        /// The share of the standard price the flex tier and the batch APIs charge, as the
        /// major providers publish it.
        public static let publishedDiscount = 0.5

        public var pattern: String
        public var inputPerMillion: Double
        public var outputPerMillion: Double
        public var cachedInputPerMillion: Double
        public var cacheWritePerMillion: Double
        public var flexPriceFactor: Double
        public var batchPriceFactor: Double

        public init(
            pattern: String, inputPerMillion: Double, outputPerMillion: Double, cachedInputPerMillion: Double? = nil,
            cacheWritePerMillion: Double? = nil, flexPriceFactor: Double? = nil, batchPriceFactor: Double? = nil
        ) {
            self.flexPriceFactor = flexPriceFactor ?? Self.publishedDiscount
            self.batchPriceFactor = batchPriceFactor ?? Self.publishedDiscount
            self.pattern = pattern
            self.inputPerMillion = inputPerMillion
            self.outputPerMillion = outputPerMillion
            self.cachedInputPerMillion = cachedInputPerMillion ?? inputPerMillion
            self.cacheWritePerMillion = cacheWritePerMillion ?? inputPerMillion
        }
    }

    public var prices: [Price]

    public init(_ prices: [Price] = []) {
        self.prices = prices
    }

    public func price(forModel model: String) -> Price? {
        prices.first { ModelRoute(pattern: $0.pattern, provider: "").matches(model) }
    }

    /// The cost of `usage` on `model` at `tier` in millionths of a dollar (exact integers add up
    /// without drift over a million calls); 0 when the model has no price.
    public func costMicros(model: String, usage: TokenUsage, tier: Tier = .standard) -> Int64 {
        guard let price = price(forModel: model) else { return 0 }
        let uncached = max(0, usage.promptTokens - usage.cachedTokens - usage.cacheWriteTokens)
        let factor =
            switch tier {
            case .flex: price.flexPriceFactor
            case .batch: price.batchPriceFactor
            case .standard, .auto: 1.0
            }
        return Int64(
            ((Double(uncached) * price.inputPerMillion + Double(usage.cachedTokens) * price.cachedInputPerMillion
                + Double(usage.cacheWriteTokens) * price.cacheWritePerMillion + Double(usage.completionTokens) * price.outputPerMillion)
                * factor).rounded())
    }

    /// What `usage` costs at the list price — standard tier, every input token at the input
    /// rate — against which a job's savings (the prompt cache, flex, batch) are told.
    public func listCostMicros(model: String, usage: TokenUsage) -> Int64 {
        guard let price = price(forModel: model) else { return 0 }
        return Int64(
            (Double(usage.promptTokens) * price.inputPerMillion + Double(usage.completionTokens) * price.outputPerMillion).rounded())
    }

    static func parse(_ json: JSONValue) throws(ConfigurationError) -> ModelPrices {
        guard json != .null else { return ModelPrices() }
        guard case .object(let members) = json else {
            throw ConfigurationError(path: "prices", message: "must be a mapping of model names to prices")
        }
        var prices: [Price] = []
        for member in members {
            let path = "prices.\(member.key)"
            guard case .object(let fields) = member.value else {
                throw ConfigurationError(path: path, message: "must be {input_per_million: N, output_per_million: N}")
            }
            try ConfigurationError.refuseUnknown(
                fields,
                allowed: [
                    "input_per_million", "output_per_million", "cached_input_per_million", "cache_write_per_million",
                    "flex_price_factor", "batch_price_factor",
                ], at: path)
            guard let input = fields["input_per_million"]?.doubleValue, let output = fields["output_per_million"]?.doubleValue,
                input >= 0, output >= 0
            else {
                throw ConfigurationError(path: path, message: "needs input_per_million and output_per_million, numbers of dollars ≥ 0")
            }
            var rates: [Double?] = []
            for key in ["cached_input_per_million", "cache_write_per_million"] {
                guard let value = fields[key], value != .null else {
                    rates.append(nil)
                    continue
                }
                guard let rate = value.doubleValue, rate >= 0 else {
                    throw ConfigurationError(path: "\(path).\(key)", message: "must be a number of dollars ≥ 0")
                }
                rates.append(rate)
            }
            var factors: [Double?] = []
            for key in ["flex_price_factor", "batch_price_factor"] {
                guard let value = fields[key], value != .null else {
                    factors.append(nil)
                    continue
                }
                guard let factor = value.doubleValue, factor > 0, factor <= 1 else {
                    throw ConfigurationError(
                        path: "\(path).\(key)", message: "must be a share of the standard price, above 0 and at most 1")
                }
                factors.append(factor)
            }
            prices.append(
                Price(
                    pattern: member.key, inputPerMillion: input, outputPerMillion: output, cachedInputPerMillion: rates[0],
                    cacheWritePerMillion: rates[1], flexPriceFactor: factors[0], batchPriceFactor: factors[1]))
        }
        return ModelPrices(prices)
    }
}
