"""A minimal OTLP/HTTP trace receiver for the tracing system test: accepts POST /v1/traces
(protobuf, optionally gzip) and keeps each span as a dict. Needs `opentelemetry-proto` (PyPI)."""

import gzip
import http.server
import threading

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest


def _value(attribute):
    kind = attribute.value.WhichOneof("value")
    if kind == "array_value":
        return [getattr(v, v.WhichOneof("value")) for v in attribute.value.array_value.values]
    return getattr(attribute.value, kind) if kind else None


class TraceReceiver:
    def __init__(self):
        self.received = []
        self.paths = set()
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                spans = []
                for resource_spans in request.resource_spans:
                    resource = {a.key: _value(a) for a in resource_spans.resource.attributes}
                    for scope in resource_spans.scope_spans:
                        for span in scope.spans:
                            spans.append({
                                "service": resource.get("service.name"), "name": span.name, "kind": span.kind,
                                "trace_id": span.trace_id.hex(), "span_id": span.span_id.hex(),
                                "parent_span_id": span.parent_span_id.hex(),
                                "attributes": {a.key: _value(a) for a in span.attributes}, "status": span.status.code,
                            })
                with receiver.lock:
                    receiver.paths.add(self.path)
                    receiver.received.extend(spans)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def spans(self, trace_id):
        with self.lock:
            return [span for span in self.received if span["trace_id"] == trace_id]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
