import Foundation
import Hummingbird
import SluiceCore
import SluiceStore

/// `GET /v1/usage`: what calls spent — tokens, calls, cost and cached tokens — per user,
/// provider, model and UTC day, from the usage ledger (which adds up to the jobs' usage).
/// Admins see everyone (or one `user`); a user sees their own.
struct UsageRoutes {
    let api: SluiceAPI
    /// The longest span one request may ask for.
    static let maximumDays = 366

    func add(to routes: RouteTable) {
        routes.add(.get, "/v1/usage", usage)
    }

    func usage(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let caller = try context.caller()
        let query = request.uri.queryParameters
        let window = UsageWindow(api.clock.now())
        let from = try Self.day(query["from"].map(String.init), name: "from") ?? window.monthStart
        let through = try Self.day(query["to"].map(String.init), name: "to") ?? window.day
        guard from <= through else { throw APIError.badRequest("from must not be after to", param: "from") }
        guard let span = Self.days(from: from, through: through), span <= Self.maximumDays else {
            throw APIError.badRequest("ask for at most \(Self.maximumDays) days at a time", param: "to")
        }
        var user = query["user"].map(String.init)
        if !caller.isAdmin {
            if let user, user != caller.user { throw APIError(.forbidden, code: "forbidden", "only an admin sees another user's usage") }
            user = caller.user
        }
        let rows = try await api.usage.usage(user: user, from: from, through: through)
        return Response.json(Self.object(rows, from: from, through: through))
    }

    /// A `YYYY-MM-DD` query value, checked to be a real day; `nil` when absent.
    static func day(_ value: String?, name: String) throws -> String? {
        guard let value else { return nil }
        guard value.utf8.count == 10, parse(value) != nil else {
            throw APIError.badRequest("\(name) must be a day such as 2026-12-01", param: name)
        }
        return value
    }

    static func parse(_ day: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        guard let date = formatter.date(from: day), formatter.string(from: date) == day else { return nil }
        return date
    }

    /// How many days `from` through `through` cover.
    static func days(from: String, through: String) -> Int? {
        guard let start = parse(from), let end = parse(through) else { return nil }
        return Int((end.timeIntervalSince(start) / 86_400).rounded()) + 1
    }

    static func object(_ rows: [UsageRow], from: String, through: String) -> JSONValue {
        var total = UsageRow(
            day: "", user: "", provider: "", model: "", calls: 0, promptTokens: 0, completionTokens: 0, cachedTokens: 0, costMicros: 0)
        for row in rows {
            total.calls += row.calls
            total.promptTokens += row.promptTokens
            total.completionTokens += row.completionTokens
            total.cachedTokens += row.cachedTokens
            total.costMicros += row.costMicros
        }
        let data = rows.map { row -> JSONValue in
            var object = figures(row)
            object["day"] = .string(row.day)
            object["user"] = .string(row.user)
            object["provider"] = .string(row.provider)
            object["model"] = .string(row.model)
            return .object(object)
        }
        return [
            "object": "usage", "from": .string(from), "to": .string(through), "data": .array(data), "total": .object(figures(total)),
        ]
    }

    static func figures(_ row: UsageRow) -> JSONObject {
        var object = JSONObject()
        object["calls"] = .int(Int(row.calls))
        object["prompt_tokens"] = .int(Int(row.promptTokens))
        object["completion_tokens"] = .int(Int(row.completionTokens))
        object["cached_tokens"] = .int(Int(row.cachedTokens))
        object["cost_usd"] = .double(Double(row.costMicros) / 1_000_000)
        return object
    }
}
