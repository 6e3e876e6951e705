package api

import (
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
	group.POST("/encode", echo.WrapHandler(handler))
	group.POST("/decode", echo.WrapHandler(handler))
}

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
		return Fail(CodeUnauthenticated)
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
