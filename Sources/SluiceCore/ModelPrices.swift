/// What models cost, per million tokens, from the configuration's `prices:` — the basis of cost
/// budgets and of each job's `cost_usd`.
///
/// ```yaml
/// prices:
///   gpt-4o-mini: {input_per_million: 0.15, output_per_million: 0.60}
///   "claude-*": {input_per_million: 3, output_per_million: 15}
/// ```
/// Patterns take `*` as model routes do; the first match wins. A model with no price costs
/// nothing here, and a job cannot set a cost budget for it.
public struct ModelPrices: Sendable, Equatable {
    public struct Price: Sendable, Equatable {
        public var pattern: String
        public var inputPerMillion: Double
        public var outputPerMillion: Double

        public init(pattern: String, inputPerMillion: Double, outputPerMillion: Double) {
            self.pattern = pattern
            self.inputPerMillion = inputPerMillion
            self.outputPerMillion = outputPerMillion
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
            try ConfigurationError.refuseUnknown(fields, allowed: ["input_per_million", "output_per_million"], at: path)
            guard let input = fields["input_per_million"]?.doubleValue, let output = fields["output_per_million"]?.doubleValue,
                input >= 0, output >= 0
            else {
                throw ConfigurationError(path: path, message: "needs input_per_million and output_per_million, numbers of dollars ≥ 0")
            }
            prices.append(Price(pattern: member.key, inputPerMillion: input, outputPerMillion: output))
        }
        return ModelPrices(prices)
    }
}
