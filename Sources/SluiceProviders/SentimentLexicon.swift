/// Lexicon-based sentiment: each known word carries a valence from −3 to +3; negations flip
/// and intensifiers scale the next sentiment word; the sum is squashed into −1…1 the way VADER
/// normalises it (`s / √(s² + 15)`), so long texts do not saturate at once.
public struct SentimentLexicon: Sendable {
    /// The analysis of one text.
    public struct Reading: Sendable, Equatable {
        /// −1 (very negative) … +1 (very positive).
        public var score: Double
        /// Words that carried sentiment, most frequent first.
        public var positiveWords: [String]
        public var negativeWords: [String]
        /// Content words by frequency, for keyword-style answers.
        public var keywords: [String]
        public var wordCount: Int

        /// `positive`, `negative` or `neutral`, with ±0.05 as the neutral band.
        public var label: String { score >= 0.05 ? "positive" : (score <= -0.05 ? "negative" : "neutral") }
    }

    public init() {}

    public func read(_ text: String) -> Reading {
        let words = Self.words(in: text)
        var sum = 0.0
        var positive: [String: Int] = [:]
        var negative: [String: Int] = [:]
        var frequency: [String: Int] = [:]
        var firstSeen: [String: Int] = [:]
        var negateWindow = 0
        var boost = 1.0
        for (position, word) in words.enumerated() {
            if let valence = Self.valence[word] {
                var value = valence * boost
                if negateWindow > 0 { value *= -0.74 }
                sum += value
                if value > 0 { positive[word, default: 0] += 1 } else if value < 0 { negative[word, default: 0] += 1 }
                negateWindow = 0
                boost = 1
            } else if Self.negations.contains(word) {
                negateWindow = 3
            } else if let scale = Self.intensifiers[word] {
                boost = scale
            } else {
                negateWindow = max(0, negateWindow - 1)
            }
            if word.count > 2, !Self.stopWords.contains(word), !Self.negations.contains(word), Self.intensifiers[word] == nil {
                frequency[word, default: 0] += 1
                if firstSeen[word] == nil { firstSeen[word] = position }
            }
        }
        let score = sum == 0 ? 0 : sum / (sum * sum + 15).squareRoot()
        func ranked(_ counts: [String: Int]) -> [String] {
            counts.sorted {
                $0.value != $1.value ? $0.value > $1.value : (firstSeen[$0.key] ?? 0, $0.key) < (firstSeen[$1.key] ?? 0, $1.key)
            }
            .map(\.key)
        }
        return Reading(
            score: max(-1, min(1, score)), positiveWords: ranked(positive), negativeWords: ranked(negative),
            keywords: ranked(frequency), wordCount: words.count)
    }

    /// Lower-cased words; apostrophes kept inside words so that `don't` and `isn't` are
    /// negations. Works on UTF-8 bytes: ASCII is lower-cased in place, and only words with
    /// other letters go through `String.lowercased()` (grapheme-level work is the slow part).
    static func words(in text: String) -> [String] {
        var words: [String] = []
        var current: [UInt8] = []
        var hasNonASCII = false
        func finish() {
            while current.last == UInt8(ascii: "'") { current.removeLast() }
            let start = current.firstIndex { $0 != UInt8(ascii: "'") } ?? current.endIndex
            if start < current.endIndex {
                let word = String(decoding: current[start...], as: UTF8.self)
                words.append(hasNonASCII ? word.lowercased() : word)
            }
            current.removeAll(keepingCapacity: true)
            hasNonASCII = false
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): current.append(byte + 32)
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "'"): current.append(byte)
            case 0x80...:
                // Bytes of a non-ASCII scalar; letters and punctuation alike stay in the word.
                current.append(byte)
                hasNonASCII = true
            default:
                if !current.isEmpty { finish() }
            }
        }
        if !current.isEmpty { finish() }
        return words
    }

    static let negations: Set<String> = [
        "not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "cannot", "can't", "don't", "doesn't",
        "didn't", "isn't", "wasn't", "aren't", "weren't", "won't", "wouldn't", "shouldn't", "couldn't", "haven't",
        "hasn't", "hadn't", "without",
    ]

    static let intensifiers: [String: Double] = [
        "very": 1.3, "really": 1.3, "extremely": 1.5, "so": 1.2, "super": 1.4, "incredibly": 1.5, "totally": 1.3,
        "absolutely": 1.5, "completely": 1.4, "quite": 1.1, "somewhat": 0.7, "slightly": 0.6, "barely": 0.5,
        "kinda": 0.8, "pretty": 1.1,
    ]

    static let stopWords: Set<String> = [
        "the", "and", "for", "are", "but", "you", "your", "with", "this", "that", "was", "were", "have", "has", "had",
        "from", "they", "them", "their", "there", "what", "when", "where", "which", "who", "will", "would", "could",
        "should", "about", "into", "than", "then", "also", "just", "been", "being", "can", "our", "ours", "its", "his",
        "her", "she", "him", "how", "all", "any", "some", "more", "most", "other", "such", "only", "own", "same", "too",
        "out", "off", "over", "under", "again", "once", "here", "why", "both", "each", "few", "because", "until",
        "while", "these", "those", "did", "does", "doing", "get", "got", "let", "may", "might", "must", "shall",
        "user", "assistant", "agent", "customer", "role", "content", "message", "messages", "i'm", "it's", "you're",
        "we're", "i've", "i'll", "please", "thanks", "thank", "hello", "hi",
    ]

    static let valence: [String: Double] = [
        // Positive
        "good": 1.9, "great": 3.1, "excellent": 3.2, "amazing": 2.8, "awesome": 3.1, "fantastic": 2.6, "wonderful": 2.7,
        "perfect": 2.7, "love": 3.2, "loved": 2.9, "loves": 2.7, "like": 1.5, "liked": 1.8, "nice": 1.8, "happy": 2.7,
        "glad": 2.0, "pleased": 1.9, "satisfied": 1.8, "helpful": 1.9, "useful": 1.9, "quick": 1.0, "fast": 1.1,
        "easy": 1.5, "resolved": 1.5, "solved": 1.7, "fixed": 1.2, "works": 1.0, "working": 0.8, "thanks": 1.9,
        "thank": 1.5, "appreciate": 2.0, "appreciated": 2.0, "recommend": 1.5, "best": 3.2, "better": 1.9, "clear": 1.2,
        "friendly": 2.2, "polite": 1.7, "kind": 2.0, "patient": 1.5, "professional": 1.5, "efficient": 1.7,
        "smooth": 1.3, "reliable": 1.8, "brilliant": 2.8, "superb": 3.0, "outstanding": 3.0, "delighted": 2.9,
        "impressed": 2.3, "enjoy": 2.2, "enjoyed": 2.3, "fine": 0.8, "ok": 0.9, "okay": 0.9, "cool": 1.3, "fun": 2.3,
        "success": 2.7, "successful": 2.8, "win": 2.8, "welcome": 2.0, "yes": 1.0, "beautiful": 2.9, "calm": 1.3,
        "comfortable": 1.5, "convenient": 1.6, "exactly": 0.7, "grateful": 2.4, "safe": 1.9, "secure": 1.4,
        "support": 1.7, "supportive": 2.0, "valuable": 2.1, "wow": 2.8,
        // Negative
        "bad": -2.5, "terrible": -3.1, "awful": -3.1, "horrible": -3.1, "worst": -3.1, "worse": -2.1, "poor": -2.1,
        "hate": -2.7, "hated": -3.2, "angry": -2.3, "annoyed": -1.6, "annoying": -1.7, "frustrated": -2.4,
        "frustrating": -1.9, "disappointed": -1.9, "disappointing": -2.2, "useless": -1.8, "broken": -1.7,
        "broke": -1.8, "bug": -1.1, "bugs": -1.2, "crash": -1.7, "crashed": -1.7, "crashes": -1.6, "error": -1.7,
        "errors": -1.4, "fail": -2.5, "failed": -2.3, "failure": -2.3, "fails": -2.0, "problem": -1.7,
        "problems": -1.7, "issue": -0.8, "issues": -0.9, "slow": -1.2, "wrong": -2.1, "rude": -2.0, "unhelpful": -1.9,
        "confusing": -1.3, "confused": -1.3, "waste": -1.8, "wasted": -2.2, "refund": -0.6, "cancel": -0.9,
        "complaint": -1.5, "sad": -2.1, "unhappy": -1.8, "upset": -1.6, "sorry": -0.3, "unfortunately": -1.5,
        "difficult": -1.5, "hard": -0.4, "stuck": -1.5, "lost": -1.3, "missing": -1.2, "late": -0.9, "delay": -1.3,
        "delayed": -1.2, "expensive": -0.9, "overcharged": -2.0, "scam": -2.6, "ridiculous": -2.2, "unacceptable": -2.7,
        "ignored": -1.6, "worthless": -2.4, "mess": -1.5, "pain": -2.3, "painful": -2.4, "lousy": -2.5,
        "pathetic": -2.6, "nightmare": -2.8, "damn": -1.7,
    ]
}
