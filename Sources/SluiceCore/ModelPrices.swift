/// What models cost, per million tokens, from the configuration's `prices:` — the basis of cost
/// budgets and of each job's `cost_usd`.
///
/// ```yaml
/// prices:
///   gpt-4o-mini: {input_per_million: 0.15, output_per_million: 0.60, cached_input_per_million: 0.075}
///   "claude-*": {input_per_million: 3, output_per_million: 15, cached_input_per_million: 0.30, cache_write_per_million: 3.75}
/// ```
/// Input tokens read from the provider's prompt cache cost `cached_input_per_million`, and those
/// written to it `cache_write_per_million`; either left out costs `input_per_million`.
/// Patterns take `*` as model routes do; the first match wins. A model with no price costs
/// nothing here, and a job cannot set a cost budget for it.
public struct ModelPrices: Sendable, Equatable {
    public struct Price: Sendable, Equatable {
        public var pattern: String
        public var inputPerMillion: Double
        public var outputPerMillion: Double
        public var cachedInputPerMillion: Double
        public var cacheWritePerMillion: Double

        public init(
            pattern: String, inputPerMillion: Double, outputPerMillion: Double, cachedInputPerMillion: Double? = nil,
            cacheWritePerMillion: Double? = nil
        ) {
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

    /// The cost of `usage` on `model` in millionths of a dollar (exact integers add up without
    /// drift over a million calls); 0 when the model has no price.
    public func costMicros(model: String, usage: TokenUsage) -> Int64 {
        guard let price = price(forModel: model) else { return 0 }
        let uncached = max(0, usage.promptTokens - usage.cachedTokens - usage.cacheWriteTokens)
        return Int64(
            (Double(uncached) * price.inputPerMillion + Double(usage.cachedTokens) * price.cachedInputPerMillion
                + Double(usage.cacheWriteTokens) * price.cacheWritePerMillion + Double(usage.completionTokens) * price.outputPerMillion)
                .rounded())
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
                fields, allowed: ["input_per_million", "output_per_million", "cached_input_per_million", "cache_write_per_million"],
                at: path)
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
            prices.append(
                Price(
                    pattern: member.key, inputPerMillion: input, outputPerMillion: output, cachedInputPerMillion: rates[0],
                    cacheWritePerMillion: rates[1]))
        }
        return ModelPrices(prices)
    }
}
