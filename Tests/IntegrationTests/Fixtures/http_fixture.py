"""A tiny HTTP server for the URL-attachment tests, on 127.0.0.1 and a free port.

Prints the port on its first line, then serves until killed:
  /file.bin   200, 3000 deterministic bytes
  /redirect   302 to /file.bin (which must never be requested through it)
  /missing    404
  /big        200 with a body larger than the test's cap
  /stall      200 headers, then silence
Every request path is appended to the log file given as the first argument.
"""
import http.server
import sys
import time

LOG = sys.argv[1]
BODY = bytes((i * 7 + 3) % 256 for i in range(3000))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        with open(LOG, "a") as log:
            log.write(self.path + "\n")
        if self.path == "/file.bin":
            self.reply(200, BODY)
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/file.bin")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/big":
            self.reply(200, b"x" * 200_000)
        elif self.path == "/stall":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.flush()
            time.sleep(30)
        else:
            self.reply(404, b"not here")

    def reply(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
