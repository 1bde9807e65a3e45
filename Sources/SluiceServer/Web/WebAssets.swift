import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore

/// The web page's templates and static files, read from the binary's resources once, when the
/// routes are built: the page needs no build step and nothing from a CDN.
struct WebAssets: Sendable {
    let templates: MustacheLibrary
    /// Static files by name, with the strong validator a browser revalidates them with.
    let files: [String: (body: ByteBuffer, contentType: String, etag: String)]

    static func load() throws -> WebAssets {
        guard let root = Bundle.module.url(forResource: "web", withExtension: nil, subdirectory: "Resources") else {
            throw WebAssetsError(message: "the web page's resources are missing from this build")
        }
        var templates = MustacheLibrary()
        let templateFolder = root.appendingPathComponent("templates")
        for name in try FileManager.default.contentsOfDirectory(atPath: templateFolder.path) where name.hasSuffix(".mustache") {
            let text = try String(contentsOf: templateFolder.appendingPathComponent(name), encoding: .utf8)
            try templates.register(text, named: String(name.dropLast(".mustache".count)))
        }
        var files: [String: (ByteBuffer, String, String)] = [:]
        let folder = root.appendingPathComponent("static")
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            let data = try Data(contentsOf: folder.appendingPathComponent(name))
            let etag = "\"" + SHA256.hash(data: data).prefix(12).map { String(format: "%02x", $0) }.joined() + "\""
            files[name] = (ByteBuffer(bytes: data), contentType(of: name), etag)
        }
        return WebAssets(templates: templates, files: files)
    }

    static func contentType(of name: String) -> String {
        switch (name as NSString).pathExtension {
        case "js": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "svg": "image/svg+xml"
        default: "application/octet-stream"
        }
    }

    /// A template rendered with `object`; a template that is missing is a bug in this build.
    func render(_ template: String, _ object: Any) throws -> String {
        guard let html = templates.render(object, withTemplate: template) else {
            throw WebAssetsError(message: "the page template '\(template)' is missing from this build")
        }
        return html
    }

    /// `GET /static/NAME`: cached for an hour, then revalidated by its ETag (`304` when unchanged).
    func file(_ name: String, request: Request) throws -> Response {
        guard let file = files[name] else { throw APIError.notFound("file \(name)") }
        var headers: HTTPFields = [.contentType: file.contentType, .cacheControl: "public, max-age=3600", .eTag: file.etag]
        headers[.xContentTypeOptions] = "nosniff"
        if request.headers[.ifNoneMatch] == file.etag { return Response(status: .notModified, headers: headers) }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: file.body))
    }
}
