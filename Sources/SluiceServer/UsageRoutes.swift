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
        let asked = try Self.ask(request, caller: try context.caller(), now: api.clock.now())
        let rows = try await api.usage.usage(user: asked.user, from: asked.from, through: asked.through)
        return Response.json(Self.object(rows, from: asked.from, through: asked.through))
    }

    /// The span and user a request asks about: `from` and `to` (the current UTC month by
    /// default, at most ``maximumDays``), and `user` — an admin's choice, any other caller's own.
    /// `blankIsAbsent`: an empty value is a field left blank (the page's form), not a bad day.
    static func ask(_ request: Request, caller: Principal, now: Date, blankIsAbsent: Bool = false) throws
        -> (from: String, through: String, user: String?)
    {
        let query = request.uri.queryParameters
        let window = UsageWindow(now)
        let given = { (name: Substring) -> String? in
            guard let value = query[name], !(blankIsAbsent && value.isEmpty) else { return nil }
            return String(value)
        }
        let from = try day(given("from"), name: "from") ?? window.monthStart
        let through = try day(given("to"), name: "to") ?? window.day
        guard from <= through else { throw APIError.badRequest("from must not be after to", param: "from") }
        guard days(from: from, through: through).count <= maximumDays else {
            throw APIError.badRequest("ask for at most \(maximumDays) days at a time", param: "to")
        }
        var user = given("user")
        if !caller.isAdmin {
            if let user, user != caller.user { throw APIError(.forbidden, code: "forbidden", "only an admin sees another user's usage") }
            user = caller.user
        }
        return (from, through, user)
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

    /// The days `from` through `through`, in order (at most a day past ``maximumDays``, so a
    /// longer span is seen to be too long without listing it).
    static func days(from: String, through: String) -> [String] {
        guard var date = parse(from), let end = parse(through) else { return [] }
        var days: [String] = []
        while date <= end, days.count <= maximumDays {
            days.append(UsageWindow(date).day)
            date = date.addingTimeInterval(86_400)
        }
        return days
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
