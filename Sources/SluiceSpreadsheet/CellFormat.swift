import Foundation

/// Shows a number cell as the spreadsheet shows it: the point of reading "dates and numbers
/// as text as shown" is that `2024-03-05` stays that, not `45356`, and `3.50` keeps its zero.
///
/// Covers the formats spreadsheets write for plain data: General, fixed decimals, thousands
/// separators, percentages, and dates and times (built-in ids 14–22 and 45–47, or any custom
/// code with date or time parts). A format outside that is shown as General. Pure.
public struct CellFormat: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case general
        case fixed(decimals: Int, thousands: Bool, percent: Bool)
        case dateTime(tokens: [DateToken])
    }

    public enum DateToken: Sendable, Equatable {
        case literal(String)
        case year4, year2, monthName, monthShort, month2, month1, day2, day1, weekday, weekdayShort
        case hour2, hour1, minute2, minute1, second2, second1, ampm
    }

    public let kind: Kind

    public static let general = CellFormat(kind: .general)

    init(kind: Kind) { self.kind = kind }

    /// The format of a built-in id, or of a custom code.
    public init(id: Int, code: String?) {
        if let code {
            self = CellFormat(code: code)
            return
        }
        switch id {
        case 1: self.init(kind: .fixed(decimals: 0, thousands: false, percent: false))
        case 2: self.init(kind: .fixed(decimals: 2, thousands: false, percent: false))
        case 3: self.init(kind: .fixed(decimals: 0, thousands: true, percent: false))
        case 4: self.init(kind: .fixed(decimals: 2, thousands: true, percent: false))
        case 9: self.init(kind: .fixed(decimals: 0, thousands: false, percent: true))
        case 10: self.init(kind: .fixed(decimals: 2, thousands: false, percent: true))
        case 14: self = CellFormat(code: "yyyy-mm-dd")
        case 15: self = CellFormat(code: "d-mmm-yy")
        case 16: self = CellFormat(code: "d-mmm")
        case 17: self = CellFormat(code: "mmm-yy")
        case 18: self = CellFormat(code: "h:mm AM/PM")
        case 19: self = CellFormat(code: "h:mm:ss AM/PM")
        case 20: self = CellFormat(code: "h:mm")
        case 21: self = CellFormat(code: "h:mm:ss")
        case 22: self = CellFormat(code: "yyyy-mm-dd h:mm")
        case 45: self = CellFormat(code: "mm:ss")
        case 46: self = CellFormat(code: "[h]:mm:ss")
        case 47: self = CellFormat(code: "mm:ss.0")
        default: self.init(kind: .general)
        }
    }

    /// Reads a custom format code's first section (the one for positive numbers).
    public init(code: String) {
        let section = Self.firstSection(of: code)
        let bare = Self.withoutQuotedAndBracketed(section).lowercased()
        if bare.contains(where: { "ymdhs".contains($0) }), !bare.contains("#"), !bare.contains("0.") || bare.contains("s") {
            self.init(kind: .dateTime(tokens: Self.dateTokens(section)))
            return
        }
        let trimmed = bare.trimmingCharacters(in: .whitespaces)
        guard trimmed.contains("0") || trimmed.contains("#") else {
            self.init(kind: .general)
            return
        }
        let decimals = trimmed.split(separator: ".", maxSplits: 1).dropFirst().first.map { $0.filter { $0 == "0" || $0 == "#" }.count } ?? 0
        self.init(kind: .fixed(decimals: decimals, thousands: trimmed.contains(","), percent: trimmed.contains("%")))
    }

    /// The text a cell shows for `value`; `date1904` says which day serial 0 is.
    public func text(_ value: Double, date1904: Bool = false) -> String {
        switch kind {
        case .general: return Self.generalText(value)
        case .fixed(let decimals, let thousands, let percent):
            let shown = percent ? value * 100 : value
            var text = String(format: "%.\(decimals)f", shown)
            if thousands { text = Self.grouped(text) }
            return percent ? text + "%" : text
        case .dateTime(let tokens): return Self.dateText(value, tokens: tokens, date1904: date1904)
        }
    }

    /// General: integers without a point, others to 15 significant digits without trailing zeros.
    public static func generalText(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        var text = String(format: "%.15g", value)
        if text.contains("."), !text.contains("e") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }

    static func grouped(_ text: String) -> String {
        let negative = text.hasPrefix("-")
        let body = negative ? String(text.dropFirst()) : text
        let parts = body.split(separator: ".", maxSplits: 1)
        var integer = String(parts[0])
        var groups: [String] = []
        while integer.count > 3 {
            groups.insert(String(integer.suffix(3)), at: 0)
            integer.removeLast(3)
        }
        groups.insert(integer, at: 0)
        return (negative ? "-" : "") + groups.joined(separator: ",") + (parts.count > 1 ? "." + parts[1] : "")
    }

    static func firstSection(of code: String) -> String {
        var inQuote = false
        for (index, character) in zip(code.indices, code) {
            if character == "\"" { inQuote.toggle() }
            if character == ";", !inQuote { return String(code[..<index]) }
        }
        return code
    }

    static func withoutQuotedAndBracketed(_ code: String) -> String {
        var result = ""
        var inQuote = false
        var inBracket = false
        var escaped = false
        for character in code {
            if escaped {
                escaped = false
                continue
            }
            switch character {
            case "\\" where !inQuote: escaped = true
            case "\"": inQuote.toggle()
            case "[" where !inQuote: inBracket = true
            case "]" where !inQuote: inBracket = false
            default: if !inQuote && !inBracket { result.append(character) }
            }
        }
        return result
    }

    /// The parts of a date/time code; `m` after an hour or before a second means minutes.
    static func dateTokens(_ code: String) -> [DateToken] {
        var tokens: [DateToken] = []
        let characters = Array(code)
        var index = 0
        func run(of letter: Character) -> Int {
            var end = index
            while end < characters.count, characters[end].lowercased() == String(letter) { end += 1 }
            return end - index
        }
        while index < characters.count {
            let character = characters[index]
            let lower = Character(character.lowercased())
            switch lower {
            case "\"":
                var end = index + 1
                while end < characters.count, characters[end] != "\"" { end += 1 }
                tokens.append(.literal(String(characters[min(index + 1, characters.count)..<min(end, characters.count)])))
                index = end + 1
            case "\\":
                if index + 1 < characters.count { tokens.append(.literal(String(characters[index + 1]))) }
                index += 2
            case "[":
                // Elapsed-time brackets ([h]) read as the plain part; colours and locales are dropped.
                var end = index + 1
                while end < characters.count, characters[end] != "]" { end += 1 }
                let inner = String(characters[min(index + 1, characters.count)..<min(end, characters.count)]).lowercased()
                if inner.allSatisfy({ $0 == "h" }) { tokens.append(inner.count >= 2 ? .hour2 : .hour1) }
                if inner.allSatisfy({ $0 == "m" }) { tokens.append(inner.count >= 2 ? .minute2 : .minute1) }
                if inner.allSatisfy({ $0 == "s" }) { tokens.append(inner.count >= 2 ? .second2 : .second1) }
                index = end + 1
            case "y":
                let count = run(of: "y")
                tokens.append(count <= 2 ? .year2 : .year4)
                index += count
            case "d":
                let count = run(of: "d")
                tokens.append([.day1, .day2, .weekdayShort, .weekday][min(count, 4) - 1])
                index += count
            case "h":
                let count = run(of: "h")
                tokens.append(count >= 2 ? .hour2 : .hour1)
                index += count
            case "s":
                let count = run(of: "s")
                tokens.append(count >= 2 ? .second2 : .second1)
                index += count
            case "m":
                let count = run(of: "m")
                let afterHour =
                    tokens.last { if case .literal = $0 { return false } else { return true } }.map { [.hour1, .hour2].contains($0) }
                    ?? false
                let beforeSecond =
                    characters[(index + count)...].first { "ymdhs".contains(Character($0.lowercased())) }.map {
                        $0.lowercased() == "s"
                    } ?? false
                if count <= 2, afterHour || beforeSecond {
                    tokens.append(count == 2 ? .minute2 : .minute1)
                } else {
                    tokens.append([.month1, .month2, .monthShort, .monthName][min(count, 4) - 1])
                }
                index += count
            case "a" where String(characters[index...].prefix(5)).uppercased() == "AM/PM":
                tokens.append(.ampm)
                index += 5
            default:
                tokens.append(.literal(String(character)))
                index += 1
            }
        }
        return tokens
    }

    static let monthNames = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December",
    ]
    static let weekdayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]

    static func dateText(_ serial: Double, tokens: [DateToken], date1904: Bool) -> String {
        // Serial day 0 is 1899-12-30 (which absorbs Lotus's phantom 29 February 1900), or 1904-01-01.
        let epoch = date1904 ? -2_082_844_800.0 : -2_209_161_600.0
        let seconds = (serial * 86_400).rounded()
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents(
            [.year, .month, .day, .hour, .minute, .second, .weekday], from: Date(timeIntervalSince1970: epoch + seconds))
        let hasAMPM = tokens.contains(.ampm)
        let hour = parts.hour ?? 0
        let shownHour = hasAMPM ? (hour % 12 == 0 ? 12 : hour % 12) : hour
        func two(_ value: Int?) -> String { String(format: "%02d", value ?? 0) }
        return tokens.map { token -> String in
            switch token {
            case .literal(let text): text
            case .year4: String(format: "%04d", parts.year ?? 0)
            case .year2: two((parts.year ?? 0) % 100)
            case .monthName: monthNames[(parts.month ?? 1) - 1]
            case .monthShort: String(monthNames[(parts.month ?? 1) - 1].prefix(3))
            case .month2: two(parts.month)
            case .month1: String(parts.month ?? 0)
            case .day2: two(parts.day)
            case .day1: String(parts.day ?? 0)
            case .weekday: weekdayNames[(parts.weekday ?? 1) - 1]
            case .weekdayShort: String(weekdayNames[(parts.weekday ?? 1) - 1].prefix(3))
            case .hour2: two(shownHour)
            case .hour1: String(shownHour)
            case .minute2: two(parts.minute)
            case .minute1: String(parts.minute ?? 0)
            case .second2: two(parts.second)
            case .second1: String(parts.second ?? 0)
            case .ampm: hour < 12 ? "AM" : "PM"
            }
        }.joined()
    }
}
