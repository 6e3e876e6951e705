package api

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.temporal.io/sdk/converter"

	"github.com/gdyst/accountflows/codec"
	"github.com/gdyst/accountflows/secure"
)

// mountCodec serves the Temporal codec-server protocol at /codec/encode and
// /codec/decode for staff. The Temporal UI calls it from the browser, hence CORS.
func (s *Server) mountCodec(e *echo.Echo) {
	handler := http.StripPrefix("/codec", converter.NewPayloadCodecHTTPHandler(codec.New(s.keys)))
	group := e.Group("/codec", middleware.CORSWithConfig(middleware.CORSConfig{
		AllowOrigins: s.codecOrigins(),
		AllowMethods: []string{http.MethodPost, http.MethodOptions},
		AllowHeaders: []string{echo.HeaderContentType, echo.HeaderAuthorization, "X-Namespace"},
	}), s.requireStaffOrDevUI)
	group.POST("/encode", serveCodec(handler))
	group.POST("/decode", serveCodec(handler))
}

// serveCodec runs the SDK's codec handler on a JSON body of at most
// MaxBodyBytes. The handler responds to a bad body with plain text that
// quotes the protobuf or cipher error, so such a response is replaced by
// the API's error shape with INVALID_REQUEST.
func serveCodec(handler http.Handler) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := requireJSONContent(c); err != nil {
			return err
		}
		body, err := readBody(c)
		if err != nil {
			return err
		}
		req := c.Request()
		req.Body = io.NopCloser(bytes.NewReader(body))
		out := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
		handler.ServeHTTP(out, req)
		if out.status >= 400 {
			return FailWith(CodeInvalidRequest, fmt.Errorf("codec: status %d: %s", out.status, strings.TrimSpace(out.body.String())))
		}
		for k, v := range out.header {
			c.Response().Header()[k] = v
		}
		return c.Blob(out.status, out.header.Get(echo.HeaderContentType), out.body.Bytes())
	}
}

// bufferedResponse keeps a handler's response in memory until it is checked.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *bufferedResponse) Header() http.Header { return r.header }

func (r *bufferedResponse) Write(b []byte) (int, error) { return r.body.Write(b) }

func (r *bufferedResponse) WriteHeader(status int) { r.status = status }

func (s *Server) codecOrigins() []string {
	if len(s.cfg.DevUIOrigins) == 0 {
		return []string{"*"}
	}
	return s.cfg.DevUIOrigins
}

// requireStaffOrDevUI lets a request through with the staff token as bearer.
// Under yst dev it also lets through the dev server's own UI: a browser
// request from loopback whose Origin is that UI's address, because the UI
// cannot send a bearer token without single sign-on. Production has no
// DevUIOrigins, so there the token is the only way in.
func (s *Server) requireStaffOrDevUI(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if token := bearerToken(c); token != "" && s.cfg.StaffToken != "" && secure.Equal(token, s.cfg.StaffToken) {
			return next(c)
		}
		if origin := c.Request().Header.Get("Origin"); origin != "" && slices.Contains(s.cfg.DevUIOrigins, origin) && isLoopback(c.Request().RemoteAddr) {
			return next(c)
		}
		return Fail(CodeStaffTokenRequired)
	}
}

func isLoopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
