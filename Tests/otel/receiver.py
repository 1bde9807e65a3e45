"""A minimal OTLP/HTTP trace receiver for the tracing system test: accepts POST /v1/traces
(protobuf, optionally gzip), writes one JSON line per span to the file given, and prints the
port it listens on. Needs `opentelemetry-proto` (PyPI)."""
import gzip, json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

out = open(sys.argv[1], "a", buffering=1)


def value(attribute):
    kind = attribute.value.WhichOneof("value")
    if kind == "array_value":
        return [getattr(v, v.WhichOneof("value")) for v in attribute.value.array_value.values]
    return getattr(attribute.value, kind) if kind else None


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        for resource_spans in request.resource_spans:
            resource = {a.key: value(a) for a in resource_spans.resource.attributes}
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    out.write(json.dumps({
                        "service": resource.get("service.name"), "name": span.name, "kind": span.kind,
                        "trace_id": span.trace_id.hex(), "span_id": span.span_id.hex(), "parent_span_id": span.parent_span_id.hex(),
                        "attributes": {a.key: value(a) for a in span.attributes}, "status": span.status.code,
                    }) + "\n")
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"port {server.server_address[1]}", flush=True)
server.serve_forever()
