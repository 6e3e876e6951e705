// Package api is the thin HTTP layer of the service: it authenticates,
// validates, starts and signals workflows by name, and reads status from the
// database. It keeps no flow state of its own.
package api

import (
	"context"
	"database/sql/driver"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/gdyst/accountflows/config"
	"github.com/gdyst/accountflows/face/sandbox"
	"github.com/gdyst/accountflows/metrics"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/registry"
	"github.com/gdyst/accountflows/secure"
)

// MaxBodyBytes is the largest request body accepted.
const MaxBodyBytes = 64 << 10

// Deps are the API's dependencies. New rejects a missing one.
type Deps struct {
	Config   config.Config
	Store    *models.Store
	Temporal client.Client
	Sandbox  *sandbox.Provider // nil unless YST_FACE_PROVIDER=sandbox
	Registry registry.Registry
	Log      *zap.Logger
	Metrics  *metrics.Metrics // nil: the API makes a registry of its own
}

// Server holds the API's dependencies; its handlers are methods.
type Server struct {
	cfg      config.Config
	store    *models.Store
	keys     *secure.Keyring
	temporal client.Client
	sandbox  *sandbox.Provider
	registry registry.Registry
	log      *zap.Logger
	metrics  *metrics.Metrics
	limits   *limiters
	now      func() time.Time
}

// New builds the Echo application with every route.
func New(d Deps) (*echo.Echo, *Server, error) {
	if d.Store == nil || d.Temporal == nil || d.Registry == nil || d.Log == nil {
		return nil, nil, errors.New("api: New needs a store, a Temporal client, a registry and a logger")
	}
	s := &Server{
		cfg:      d.Config,
		store:    d.Store,
		keys:     d.Store.Keys(),
		temporal: d.Temporal,
		sandbox:  d.Sandbox,
		registry: d.Registry,
		log:      d.Log.With(zap.String("component", "api")),
		limits:   newLimiters(d.Config.FaceLoginLimitPerID, d.Config.FaceLoginLimitPerIP),
		now:      func() time.Time { return time.Now().UTC() },
		metrics:  d.Metrics,
	}
	if s.metrics == nil {
		s.metrics = metrics.New()
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.errorHandler
	e.IPExtractor = echo.ExtractIPDirect()
	e.Use(s.countRequests, s.requestContext, s.recoverPanics, s.limitBody)
	s.routes(e)
	return e, s, nil
}

func (s *Server) routes(e *echo.Echo) {
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/openapi.yaml", s.openAPI)
	e.GET("/metrics", echo.WrapHandler(s.metrics.Handler()))

	v1 := e.Group("/v1")
	v1.POST("/face-logins", s.startFaceLogin, s.idempotent)
	v1.GET("/face-logins/:id", s.getFaceLogin)
	v1.POST("/face-verifications/:id/report", s.reportVerification, requireEmptyBody)
	v1.POST("/callbacks/face-verification", s.faceCallback)

	v1.GET("/me", s.me, s.requireSession(anySession))
	v1.DELETE("/sessions/current", s.logout, s.requireSession(anySession))

	v1.POST("/enterprise-accounts", s.createEnterpriseAccount, s.requireSession(personSession), s.idempotent)
	v1.GET("/enterprise-accounts/:id", s.getEnterpriseAccount, s.requireSession(anySession))
	v1.PUT("/enterprise-accounts/:id/credentials", s.setCredentials, s.requireSession(anySession))
	v1.GET("/enterprise-accounts/:id/audit-events", s.listAuditEvents, s.requireSession(anySession))
	v1.POST("/sessions/enterprise", s.chooseEnterprise, s.requireSession(personSession), s.idempotent)
	v1.POST("/enterprise-logins", s.passwordLogin)
	v1.GET("/session/authorization", s.authorization, s.requireSession(anySession))

	v1.POST("/enterprise-accounts/:id/agent-invitations", s.createInvitation, s.requireSession(enterpriseSession), s.idempotent)
	v1.GET("/enterprise-accounts/:id/agent-invitations", s.listInvitations, s.requireSession(enterpriseSession))
	v1.DELETE("/agent-invitations/:id", s.revokeInvitation, s.requireSession(enterpriseSession))
	v1.GET("/enterprise-accounts/:id/agents", s.listAgents, s.requireSession(enterpriseSession))
	v1.DELETE("/enterprise-accounts/:id/agents/:person_id", s.removeAgent, s.requireSession(enterpriseSession))
	v1.GET("/shares/:token", s.getShare)
	v1.POST("/shares/:token/face-verifications", s.startShareVerification, s.idempotent, requireEmptyBody)
	v1.POST("/shares/:token/decision", s.decideShare, s.idempotent)

	s.mountCertificationRequests(v1)
	s.mountLinkRequests(v1)
	s.mountSupport(v1)
	s.mountCodec(e)

	if s.sandbox != nil {
		e.GET("/sandbox/face/:token", s.sandboxPage)
		e.POST("/sandbox/face/:token", s.sandboxDecide)
	}
}

// isUnavailable reports whether err means a dependency (the database or
// Temporal) cannot be reached, which the client may retry.
func isUnavailable(err error) bool {
	var unavailable *serviceerror.Unavailable
	var deadline *serviceerror.DeadlineExceeded
	var netErr net.Error
	var opErr *net.OpError
	return errors.As(err, &unavailable) || errors.As(err, &deadline) ||
		errors.As(err, &netErr) || errors.As(err, &opErr) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, context.DeadlineExceeded)
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{"database": "ok", "temporal": "ok"}
	ready := true
	if err := models.Ping(ctx, s.store.DB()); err != nil {
		checks["database"], ready = "unavailable", false
		s.log.Warn("readiness: database unreachable", zap.Error(err))
	}
	if _, err := s.temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		checks["temporal"], ready = "unavailable", false
		s.log.Warn("readiness: temporal unreachable", zap.Error(err))
	}
	status := http.StatusOK
	if !ready {
		status = http.StatusServiceUnavailable
	}
	return c.JSON(status, map[string]any{"ready": ready, "checks": checks})
}
