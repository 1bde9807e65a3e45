import Foundation
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// Where a webhook may be sent: an `http` or `https` URL whose host resolves only to public
/// addresses — unless the configuration allows private targets. Checked when an endpoint is
/// registered and again before every try, since a name can be pointed elsewhere afterwards.
enum WebhookTarget {
    struct Refusal: Error, CustomStringConvertible {
        var description: String
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
    /// address that is not public.
    static func check(_ url: String, allowPrivate: Bool) async throws(Refusal) {
        let host = try host(of: url)
        if allowPrivate { return }
        let addresses: [String]
        do {
            addresses = try await NIOThreadPool.singleton.runIfActive { try resolve(host) }
        } catch {
            throw Refusal(description: "the url's host \(host) does not resolve")
        }
        if let inner = addresses.first(where: isPrivate) {
            throw Refusal(
                description:
                    "the url's host \(host) is a private or loopback address (\(inner)); set webhooks.allow_private_targets to allow it")
        }
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
    /// link-local, unique-local, multicast, reserved, unspecified, or IPv4 mapped to one.
    static func isPrivate(_ address: String) -> Bool {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            return isPrivate(v4: withUnsafeBytes(of: v4.s_addr) { Array($0) })
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, address.split(separator: "%").first.map(String.init) ?? address, &v6) == 1 else { return true }
        let bytes = withUnsafeBytes(of: v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff { return isPrivate(v4: Array(bytes[12..<16])) }
        if bytes[0..<15].allSatisfy({ $0 == 0 }) { return true }  // :: and ::1
        if bytes[0] & 0xfe == 0xfc { return true }  // fc00::/7 unique local
        if bytes[0] == 0xfe, bytes[1] & 0xc0 == 0x80 { return true }  // fe80::/10 link local
        if bytes[0] == 0xff { return true }  // multicast
        if bytes[0] == 0x20, bytes[1] == 0x01, bytes[2] == 0x0d, bytes[3] == 0xb8 { return true }  // documentation
        return false
    }

    static func isPrivate(v4 bytes: [UInt8]) -> Bool {
        let (a, b) = (bytes[0], bytes[1])
        return a == 0 || a == 10 || a == 127 || a >= 224 || (a == 100 && b & 0xc0 == 64) || (a == 169 && b == 254)
            || (a == 172 && b & 0xf0 == 16) || (a == 192 && b == 168) || (a == 192 && b == 0 && bytes[2] == 0)
            || (a == 198 && b & 0xfe == 18)
    }
}
