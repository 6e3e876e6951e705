package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gdyst/accountflows/models"
)

// maxCursorLength bounds the cursor query parameter; real cursors are about 80 characters.
const maxCursorLength = 256

type auditPersonView struct {
	PersonID   string `json:"person_id"`
	NameMasked string `json:"name_masked"`
}

type auditEventView struct {
	ID        string           `json:"id"`
	Action    string           `json:"action"`
	Actor     *auditPersonView `json:"actor,omitempty"`
	Subject   *auditPersonView `json:"subject,omitempty"`
	Detail    json.RawMessage  `json:"detail"`
	CreatedAt time.Time        `json:"created_at"`
}

type auditEventsResponse struct {
	Events     []auditEventView `json:"events"`
	NextCursor string           `json:"next_cursor,omitempty"`
}

// listAuditEvents returns an account's audit trail, newest first, to its
// legal representative or applicant. People appear with masked names only.
// Query parameters: limit (1–100, default 20) and cursor (next_cursor of
// the previous page).
func (s *Server) listAuditEvents(c echo.Context) error {
	limit := models.DefaultAuditPageSize
	if raw := c.QueryParam("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > models.MaxAuditPageSize {
			return Fail(CodeInvalidRequest)
		}
		limit = n
	}
	cursor := c.QueryParam("cursor")
	if len(cursor) > maxCursorLength {
		return Fail(CodeInvalidCursor)
	}

	account, err := s.memberAccount(c)
	if err != nil {
		return err
	}
	if !account.HasRole(models.RoleLegalRepresentative, models.RoleApplicant) {
		return Fail(CodeForbidden)
	}

	items, next, err := s.store.AuditEvents(c.Request().Context(), account.ID, limit, cursor)
	if err != nil {
		return fromStore(err)
	}
	events := make([]auditEventView, 0, len(items))
	for _, item := range items {
		events = append(events, auditEventView{
			ID:        item.ID,
			Action:    item.Action,
			Actor:     auditPerson(item.ActorPersonID, item.ActorNameMasked),
			Subject:   auditPerson(item.SubjectPersonID, item.SubjectNameMasked),
			Detail:    json.RawMessage(item.Detail),
			CreatedAt: item.CreatedAt.UTC(),
		})
	}
	return c.JSON(http.StatusOK, auditEventsResponse{Events: events, NextCursor: next})
}

func auditPerson(id *string, nameMasked string) *auditPersonView {
	if id == nil {
		return nil
	}
	return &auditPersonView{PersonID: *id, NameMasked: nameMasked}
}
