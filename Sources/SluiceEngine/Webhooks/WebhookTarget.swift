import Foundation
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// Where a webhook may be sent: an `http` or `https` URL whose host resolves only to public
/// addresses — unless the configuration allows private targets. Checked when an endpoint is
/// registered and again before every try, since a name can be pointed elsewhere afterwards.
public enum WebhookTarget {
    public struct Refusal: Error, CustomStringConvertible {
        public var description: String
    }

    /// The URL's host, when the URL is one a webhook may name at all.
    static func host(of text: String) throws(Refusal) -> String {
        // A URI is ASCII: a host in another script is sent as its punycode.
        guard text.utf8.count <= 2048, text.unicodeScalars.allSatisfy({ (0x21...0x7e).contains($0.value) }),
            let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else { throw Refusal(description: "the url must be an absolute http or https URI (ASCII) of at most 2048 characters") }
        guard components.user == nil, components.password == nil else {
            throw Refusal(description: "the url must not carry a user name or password")
        }
        return host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    }

    /// Refuses a URL that is malformed, does not resolve, or (unless `allowPrivate`) reaches an
    /// address that is not public. Returns the host and, when private targets are refused, the
    /// checked address a try must connect to: resolving the name again at connect time would
    /// let it point somewhere else by then (DNS rebinding).
    @discardableResult
    public static func check(_ url: String, allowPrivate: Bool) async throws(Refusal) -> (host: String, address: String?) {
        let host = try host(of: url)
        if allowPrivate { return (host, nil) }
        let addresses: [String]
        do {
            addresses = try await BlockingWork.network.run(owner: host) { try resolve(host) }
        } catch {
            throw Refusal(description: "the url's host \(host) does not resolve")
        }
        if let inner = addresses.first(where: isPrivate) {
            throw Refusal(
                description:
                    "the url's host \(host) is a private or loopback address (\(inner)); set webhooks.allow_private_targets to allow it")
        }
        return (host, addresses[0])
    }

    /// The numeric addresses a name resolves to (an address resolves to itself).
    static func resolve(_ host: String) throws -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { throw Refusal(description: "\(host) does not resolve") }
        defer { freeaddrinfo(first) }
        var addresses: [String] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(info.pointee.ai_addr, info.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                addresses.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            cursor = info.pointee.ai_next
        }
        guard !addresses.isEmpty else { throw Refusal(description: "\(host) has no address") }
        return addresses
    }

    /// Whether an address is anything but a public unicast one: loopback, private, shared,
    /// link-local, unique- and site-local, multicast, reserved, documentation, unspecified — and
    /// every IPv6 form that carries an IPv4 address (mapped, compatible, translated, NAT64, 6to4),
    /// judged by the IPv4 address inside. Teredo is refused outright (its inner address is a
    /// relay's choice).
    static func isPrivate(_ address: String) -> Bool {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            return isPrivate(v4: withUnsafeBytes(of: v4.s_addr) { Array($0) })
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, address.split(separator: "%").first.map(String.init) ?? address, &v6) == 1 else { return true }
        return isPrivate(v6: withUnsafeBytes(of: v6) { Array($0) })
    }

    static func isPrivate(v6 bytes: [UInt8]) -> Bool {
        func zero(_ range: Range<Int>) -> Bool { bytes[range].allSatisfy { $0 == 0 } }
        let last4 = Array(bytes[12..<16])
        if zero(0..<10), bytes[10] == 0xff, bytes[11] == 0xff { return isPrivate(v4: last4) }  // ::ffff:a.b.c.d mapped
        if zero(0..<8), bytes[8] == 0xff, bytes[9] == 0xff, zero(10..<12) { return isPrivate(v4: last4) }  // ::ffff:0:a.b.c.d translated
        if zero(0..<12) { return true }  // ::, ::1 and the deprecated ::a.b.c.d compatible form
        if bytes[0] == 0x00, bytes[1] == 0x64, bytes[2] == 0xff, bytes[3] == 0x9b {  // 64:ff9b::/96 NAT64, 64:ff9b:1::/48 local
            return !zero(4..<12) || isPrivate(v4: last4)
        }
        if bytes[0] == 0x20, bytes[1] == 0x02 { return isPrivate(v4: Array(bytes[2..<6])) }  // 2002::/16 6to4
        if bytes[0] == 0x20, bytes[1] == 0x01, zero(2..<4) { return true }  // 2001::/32 Teredo
        if bytes[0] == 0x20, bytes[1] == 0x01, bytes[2] == 0x00, bytes[3] & 0xe0 == 0 { return true }  // 2001::/23 IETF special
        if bytes[0] == 0x20, bytes[1] == 0x01, bytes[2] == 0x0d, bytes[3] == 0xb8 { return true }  // 2001:db8::/32 documentation
        if bytes[0] == 0x01, bytes[1] == 0x00, zero(2..<8) { return true }  // 100::/64 discard
        if bytes[0] & 0xfe == 0xfc { return true }  // fc00::/7 unique local
        if bytes[0] == 0xfe, bytes[1] & 0x80 == 0x80 { return true }  // fe80::/10 link local, fec0::/10 site local
        if bytes[0] == 0xff { return true }  // multicast
        return bytes[0] & 0xe0 != 0x20  // only 2000::/3 is global unicast
    }

    static func isPrivate(v4 bytes: [UInt8]) -> Bool {
        let (a, b, c) = (bytes[0], bytes[1], bytes[2])
        return a == 0 || a == 10 || a == 127 || a >= 224 || (a == 100 && b & 0xc0 == 64) || (a == 169 && b == 254)
            || (a == 172 && b & 0xf0 == 16) || (a == 192 && b == 168) || (a == 192 && b == 0 && c == 0)
            || (a == 192 && b == 0 && c == 2) || (a == 192 && b == 88 && c == 99) || (a == 198 && b & 0xfe == 18)
            || (a == 198 && b == 51 && c == 100) || (a == 203 && b == 0 && c == 113)
    }
}
