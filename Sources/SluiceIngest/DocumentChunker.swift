import Foundation

/// Cuts a document's text into chunks of at most a given number of characters, each ending at
/// the best break near its end: a paragraph, else a sentence, else a space — so a chunk a
/// model reads rarely stops mid-thought. Pure; whitespace at the cuts is dropped.
public enum DocumentChunker {
    public static func chunks(of text: String, maxChars: Int) -> [String] {
        precondition(maxChars > 0)
        var chunks: [String] = []
        var rest = Substring(text)
        while true {
            rest = rest.drop { $0.isWhitespace }
            guard !rest.isEmpty else { return chunks }
            guard let limit = rest.index(rest.startIndex, offsetBy: maxChars, limitedBy: rest.endIndex), limit < rest.endIndex else {
                chunks.append(String(rest.reversed().drop { $0.isWhitespace }.reversed()))
                return chunks
            }
            let window = rest[..<limit]
            // Only breaks in the second half count: a break near the start would make a tiny chunk.
            let floor = rest.index(rest.startIndex, offsetBy: maxChars / 2)
            let cut =
                window.range(of: "\n\n", options: .backwards).map(\.upperBound).flatMap { $0 > floor ? $0 : nil }
                ?? lastSentenceEnd(in: window, after: floor)
                ?? window[floor...].lastIndex(where: \.isWhitespace).map { window.index(after: $0) }
                ?? limit
            chunks.append(String(rest[..<cut].reversed().drop { $0.isWhitespace }.reversed()))
            rest = rest[cut...]
        }
    }

    static func lastSentenceEnd(in window: Substring, after floor: Substring.Index) -> Substring.Index? {
        var index = window.endIndex
        while index > floor {
            index = window.index(before: index)
            let next = window.index(after: index)
            if ".!?".contains(window[index]), next < window.endIndex, window[next].isWhitespace { return next }
        }
        return nil
    }
}
