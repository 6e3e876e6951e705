package api

import (
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gdyst/accountflows/secure"
)

// Share tokens start with a prefix naming what they open, so one lookup by
// hash in one table serves GET /v1/shares/{token}.
const (
	shareInvitation    = "inv_"
	shareCertification = "crq_"
)

// Kinds a share preview reports.
const (
	shareKindInvitation    = "agent_invitation"
	shareKindCertification = "certification_request"
)

// newShareToken returns a share token of 256 random bits with its prefix.
func newShareToken(prefix string) string { return prefix + secure.NewToken() }

// shareToken returns the :token parameter and its prefix, or 404 for a
// token no share could have.
func shareToken(c echo.Context) (token, prefix string, err error) {
	token = c.Param("token")
	if len(token) < 20 || len(token) > 128 {
		return "", "", Fail(CodeNotFound)
	}
	for _, p := range []string{shareInvitation, shareCertification} {
		if strings.HasPrefix(token, p) {
			return token, p, nil
		}
	}
	return "", "", Fail(CodeNotFound)
}

// getShare previews what a share link opens, without a session.
func (s *Server) getShare(c echo.Context) error {
	token, prefix, err := shareToken(c)
	if err != nil {
		return err
	}
	switch prefix {
	case shareInvitation:
		return s.previewInvitation(c, token)
	default:
		return s.previewCertificationRequest(c, token)
	}
}

// startShareVerification starts the face verification an agent invitation
// waits for.
func (s *Server) startShareVerification(c echo.Context) error {
	token, prefix, err := shareToken(c)
	if err != nil {
		return err
	}
	if prefix != shareInvitation {
		return Fail(CodeNotFound)
	}
	return s.verifyInvitee(c, token)
}

// decideShare records the legal representative's decision on a certification request.
func (s *Server) decideShare(c echo.Context) error {
	token, prefix, err := shareToken(c)
	if err != nil {
		return err
	}
	if prefix != shareCertification {
		return Fail(CodeNotFound)
	}
	return s.decideCertificationRequest(c, token)
}
