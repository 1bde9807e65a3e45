/// Pauses a job whose recent items mostly fail — a broken prompt or a wrong model name — instead
/// of letting it spend its way through every row. Counted over final outcomes only: a retry
/// that later succeeds is not a failure.
public struct FailureBrake: Sendable, Equatable {
    /// How many of the latest finished items are looked at; the brake waits for that many.
    public var window: Int
    /// The share of failures among them (0–1) at which the job pauses.
    public var rate: Double

    public static let standard = FailureBrake(window: 20, rate: 0.9)

    public init(window: Int, rate: Double) {
        self.window = window
        self.rate = rate
    }

    /// `standard` when not given; `false` or `null` turns the brake off.
    static func parse(_ json: JSONValue?) throws(SpecError) -> FailureBrake? {
        guard let json else { return standard }
        switch json {
        case .null, .bool(false): return nil
        case .bool(true): return standard
        case .object(let object):
            for key in object.keys where key != "window" && key != "rate" {
                throw SpecError(field: "failure_brake.\(key)", message: "unknown setting (known: window, rate)")
            }
            var brake = standard
            if let raw = object["window"], raw != .null {
                guard let window = raw.intValue, (1...1000).contains(window) else {
                    throw SpecError(field: "failure_brake.window", message: "must be an integer from 1 to 1000")
                }
                brake.window = window
            }
            if let raw = object["rate"], raw != .null {
                guard let rate = raw.doubleValue, rate > 0, rate <= 1 else {
                    throw SpecError(field: "failure_brake.rate", message: "must be a number above 0 and at most 1")
                }
                brake.rate = rate
            }
            return brake
        default:
            throw SpecError(field: "failure_brake", message: "must be false or an object such as {\"window\": 20, \"rate\": 0.9}")
        }
    }

    var json: JSONValue { ["window": .int(window), "rate": .double(rate)] }

    /// Whether `failures` among the latest `finished` items call for a pause.
    public func trips(failures: Int, of finished: Int) -> Bool {
        finished >= window && Double(failures) >= rate * Double(window)
    }
}
