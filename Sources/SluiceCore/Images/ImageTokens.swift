/// The tokens an image in a prompt costs, by the rules the providers publish — what a call
/// reserves against a tokens-per-minute limit for its image parts, so a limit still binds
/// without 429s on a job of images.
public enum ImageTokens {
    /// How a provider counts an image.
    public enum Rule: Sendable {
        /// OpenAI: `low` detail a flat 85; otherwise the image fitted within 2048×2048, then its
        /// shorter side brought down to 768, costs 170 for each 512-pixel tile and 85 more.
        case tiles
        /// Anthropic: the image brought within 1568 pixels on its long edge and about 1.15
        /// megapixels, then width × height ÷ 750.
        case pixels
    }

    /// The tokens an image of `width` × `height` costs (at OpenAI's `low` detail when
    /// `lowDetail`); with no size known (a URL the provider fetches), the most any image can
    /// cost under the rule.
    public static func estimate(width: Int?, height: Int?, rule: Rule, lowDetail: Bool = false) -> Int {
        if rule == .tiles, lowDetail { return 85 }
        guard let width, let height, width > 0, height > 0 else { return most(rule) }
        switch rule {
        case .tiles:
            var (w, h) = (Double(width), Double(height))
            let fit = min(1, 2048 / max(w, h))
            (w, h) = (w * fit, h * fit)
            let shorter = min(w, h)
            if shorter > 768 { (w, h) = (w * 768 / shorter, h * 768 / shorter) }
            let tiles = Int((w / 512).rounded(.up)) * Int((h / 512).rounded(.up))
            return 170 * tiles + 85
        case .pixels:
            var (w, h) = (Double(width), Double(height))
            let edge = min(1, 1568 / max(w, h))
            (w, h) = (w * edge, h * edge)
            let area = min(1, (Double(Self.anthropicMost) * 750 / (w * h)).squareRoot())
            (w, h) = (w * area, h * area)
            return Int((w * h / 750).rounded(.up))
        }
    }

    /// The most any image costs under `rule`: for tiles, 2 × 4 of them (an image 768 by 2048 or
    /// more); for pixels, the cap past which Anthropic scales an image down.
    public static func most(_ rule: Rule) -> Int {
        switch rule {
        case .tiles: 170 * 8 + 85
        case .pixels: anthropicMost
        }
    }

    static let anthropicMost = 1600
}
