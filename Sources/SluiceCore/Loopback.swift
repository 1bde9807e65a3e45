import Foundation

/// This machine's loopback, decided on the address's value: `localhost`, an address of
/// 127.0.0.0/8 written as four decimal octets, or `::1` (with or without IPv6 brackets) — so
/// `127.example.com` is not loopback. Where no network lies between two processes: a server
/// with auth off may answer only such names, a database on one needs no checked certificate.
public enum Loopback {
    public static func contains(_ host: String) -> Bool {
        var name = host.lowercased()
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if name == "localhost" || name == "localhost." { return true }
        var v4 = in_addr()
        if name.split(separator: ".", omittingEmptySubsequences: false).count == 4, inet_pton(AF_INET, name, &v4) == 1 {
            return UInt32(bigEndian: v4.s_addr) >> 24 == 127
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, name, &v6) == 1 else { return false }
        return withUnsafeBytes(of: &v6) { bytes in bytes.prefix(15).allSatisfy { $0 == 0 } && bytes[15] == 1 }
    }
}
