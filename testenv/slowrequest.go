package testenv

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"
)

// SlowRequest is an HTTP/1.1 request whose body arrives in two parts, so
// that the server holds it in flight, reading the body, until Finish sends
// the rest. Shutdown tests use it to have a request in flight on demand.
type SlowRequest struct {
	conn net.Conn
	rest []byte
}

// StartSlowRequest connects to addr (host:port), sends the request line,
// the headers and the first half of body, and returns without waiting.
func StartSlowRequest(tb testing.TB, addr, method, path string, body []byte) *SlowRequest {
	tb.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		tb.Fatalf("slow request: %v", err)
	}
	tb.Cleanup(func() { conn.Close() })
	half := len(body) / 2
	head := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
		method, path, addr, len(body))
	if _, err := conn.Write(append([]byte(head), body[:half]...)); err != nil {
		tb.Fatalf("slow request: %v", err)
	}
	return &SlowRequest{conn: conn, rest: body[half:]}
}

// Finish sends the rest of the body and returns the response's status code.
func (r *SlowRequest) Finish() (int, error) {
	if err := r.conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return 0, err
	}
	if _, err := r.conn.Write(r.rest); err != nil {
		return 0, fmt.Errorf("unable to send the rest of the body: %w", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(r.conn), nil)
	if err != nil {
		return 0, fmt.Errorf("unable to read the response: %w", err)
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
