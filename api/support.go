package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/secure"
)

// Limits of the support endpoints.
const (
	maxFeedbackContent = 2000 // characters, after trimming
	maxFeedbackContact = 64   // characters, after trimming
)

// mountSupport adds the hotline contacts, the caller's feedback and the
// staff endpoints that reply to it.
func (s *Server) mountSupport(v1 *echo.Group) {
	v1.GET("/support/contacts", s.supportContacts)
	v1.POST("/feedback", s.createFeedback, s.requireSession(anySession), s.idempotent)
	v1.GET("/feedback", s.listMyFeedback, s.requireSession(anySession))

	staff := v1.Group("/staff", s.requireStaff)
	staff.GET("/feedback", s.listFeedbackForStaff)
	staff.POST("/feedback/:id/replies", s.replyToFeedback, s.idempotent)
}

// requireStaff lets a request through only with YST_STAFF_TOKEN as bearer.
// Comparing hashes keeps the comparison constant-time whatever the length
// of the token sent. A person's session token is just another wrong token.
func (s *Server) requireStaff(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		token := bearerToken(c)
		if token == "" || s.cfg.StaffToken == "" || !secure.Equal(secure.HashToken(token), secure.HashToken(s.cfg.StaffToken)) {
			return Fail(CodeStaffTokenRequired)
		}
		return next(c)
	}
}

type supportContactView struct {
	Number string `json:"number"`
	Label  string `json:"label"`
}

type supportContactsResponse struct {
	Contacts []supportContactView `json:"contacts"`
}

// supportContacts returns the hotline numbers of YST_SUPPORT_CONTACTS. It
// needs no session: the app shows them before login too.
func (s *Server) supportContacts(c echo.Context) error {
	contacts := make([]supportContactView, 0, len(s.cfg.SupportContacts))
	for _, contact := range s.cfg.SupportContacts {
		contacts = append(contacts, supportContactView{Number: contact.Number, Label: contact.Label})
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.JSON(http.StatusOK, supportContactsResponse{Contacts: contacts})
}

type createFeedbackRequest struct {
	Content string `json:"content"`
	Contact string `json:"contact"`
}

type feedbackReplyView struct {
	ID        string    `json:"id"`
	Content   string    `json:"content"`
	CreatedAt time.Time `json:"created_at"`
}

type feedbackView struct {
	ID                  string              `json:"id"`
	Status              string              `json:"status"`
	Content             string              `json:"content"`
	Contact             string              `json:"contact,omitempty"`
	EnterpriseAccountID *string             `json:"enterprise_account_id,omitempty"`
	CreatedAt           time.Time           `json:"created_at"`
	Replies             []feedbackReplyView `json:"replies"`
}

type feedbackListResponse struct {
	Feedback   []feedbackView `json:"feedback"`
	NextCursor string         `json:"next_cursor,omitempty"`
}

// createFeedback stores feedback from any session. The contact is kept
// sealed, because it is usually a mobile number.
func (s *Server) createFeedback(c echo.Context) error {
	var req createFeedbackRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	content, ok := cleanText(req.Content, maxFeedbackContent, true)
	if !ok {
		return Fail(CodeInvalidFeedbackContent)
	}
	contact := strings.TrimSpace(req.Contact)
	if contact != "" {
		if contact, ok = cleanText(contact, maxFeedbackContact, false); !ok {
			return Fail(CodeInvalidContact)
		}
	}
	session := currentSession(c)
	ctx := c.Request().Context()
	if err := s.checkFeedbackLimit(c, session.PersonID); err != nil {
		return err
	}

	entry, err := s.store.CreateFeedback(ctx, models.NewFeedback{
		ID:                  secure.NewID(),
		PersonID:            session.PersonID,
		EnterpriseAccountID: session.EnterpriseAccountID,
		Content:             content,
		Contact:             contact,
	})
	if err != nil {
		return err
	}
	s.log.Info("feedback received", zap.String("request_id", requestID(c)), zap.String("feedback_id", entry.ID))
	return c.JSON(http.StatusCreated, toFeedbackView(entry))
}

// checkFeedbackLimit applies YST_FEEDBACK_LIMIT_PER_PERSON, counted in the
// database so that it holds across API processes.
func (s *Server) checkFeedbackLimit(c echo.Context, personID string) error {
	limit := s.cfg.FeedbackLimitPerPerson
	if limit.Off() {
		return nil
	}
	n, err := s.store.CountFeedbackSince(c.Request().Context(), personID, s.now().Add(-limit.Window))
	if err != nil {
		return err
	}
	if n >= int64(limit.Count) {
		return Fail(CodeTooManyAttempts)
	}
	return nil
}

// listMyFeedback returns the caller's feedback with its replies, newest
// first. Query parameters: limit (1–100, default 20) and cursor.
func (s *Server) listMyFeedback(c echo.Context) error {
	limit, cursor, err := pageParams(c)
	if err != nil {
		return err
	}
	entries, next, err := s.store.ListFeedback(c.Request().Context(), models.FeedbackQuery{
		PersonID:    currentSession(c).PersonID,
		NewestFirst: true,
		Cursor:      cursor,
		Limit:       limit,
	})
	if errors.Is(err, models.ErrInvalidCursor) {
		return Fail(CodeInvalidCursor)
	}
	if err != nil {
		return err
	}
	views := make([]feedbackView, 0, len(entries))
	for _, entry := range entries {
		views = append(views, toFeedbackView(entry))
	}
	return c.JSON(http.StatusOK, feedbackListResponse{Feedback: views, NextCursor: next})
}

func toFeedbackView(entry models.FeedbackEntry) feedbackView {
	return feedbackView{
		ID:                  entry.ID,
		Status:              entry.Status,
		Content:             entry.Content,
		Contact:             entry.Contact,
		EnterpriseAccountID: entry.EnterpriseAccountID,
		CreatedAt:           entry.CreatedAt,
		Replies:             toReplyViews(entry.Replies),
	}
}

func toReplyViews(replies []models.FeedbackReplyEntry) []feedbackReplyView {
	views := make([]feedbackReplyView, 0, len(replies))
	for _, r := range replies {
		views = append(views, feedbackReplyView{ID: r.ID, Content: r.Content, CreatedAt: r.CreatedAt})
	}
	return views
}

type reporterView struct {
	NameMasked string `json:"name_masked"`
}

type staffFeedbackView struct {
	feedbackView
	Reporter reporterView `json:"reporter"`
}

type staffFeedbackListResponse struct {
	Feedback   []staffFeedbackView `json:"feedback"`
	NextCursor string              `json:"next_cursor,omitempty"`
}

// listFeedbackForStaff returns feedback oldest first, so that staff reply
// in the order it arrived. Query parameters: status (open or replied, or
// empty for both), limit (1–100, default 20) and cursor. The reporter
// appears by masked name only. The contact is shown in full, because the
// person left it to be called back.
func (s *Server) listFeedbackForStaff(c echo.Context) error {
	status := c.QueryParam("status")
	if status != "" && status != models.FeedbackOpen && status != models.FeedbackReplied {
		return Fail(CodeInvalidStatusFilter)
	}
	limit, cursor, err := pageParams(c)
	if err != nil {
		return err
	}
	entries, next, err := s.store.ListFeedback(c.Request().Context(), models.FeedbackQuery{
		Status: status,
		Cursor: cursor,
		Limit:  limit,
	})
	if errors.Is(err, models.ErrInvalidCursor) {
		return Fail(CodeInvalidCursor)
	}
	if err != nil {
		return err
	}
	views := make([]staffFeedbackView, 0, len(entries))
	for _, entry := range entries {
		views = append(views, staffFeedbackView{
			feedbackView: toFeedbackView(entry),
			Reporter:     reporterView{NameMasked: entry.ReporterNameMasked},
		})
	}
	return c.JSON(http.StatusOK, staffFeedbackListResponse{Feedback: views, NextCursor: next})
}

type replyRequest struct {
	Content string `json:"content"`
}

type replyResponse struct {
	ID         string    `json:"id"`
	FeedbackID string    `json:"feedback_id"`
	Content    string    `json:"content"`
	CreatedAt  time.Time `json:"created_at"`
}

// replyToFeedback stores a staff reply and marks the feedback replied. The
// person reads the reply in their feedback history.
func (s *Server) replyToFeedback(c echo.Context) error {
	feedbackID := c.Param("id")
	if !resourceID.MatchString(feedbackID) {
		return Fail(CodeNotFound)
	}
	var req replyRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	content, ok := cleanText(req.Content, maxFeedbackContent, true)
	if !ok {
		return Fail(CodeInvalidFeedbackContent)
	}

	reply, err := s.store.AddFeedbackReply(c.Request().Context(), feedbackID, secure.NewID(), content)
	if errors.Is(err, models.ErrNotFound) {
		return Fail(CodeNotFound)
	}
	if err != nil {
		return err
	}
	s.log.Info("staff replied to feedback", zap.String("request_id", requestID(c)),
		zap.String("feedback_id", feedbackID), zap.String("reply_id", reply.ID))
	return c.JSON(http.StatusCreated, replyResponse{ID: reply.ID, FeedbackID: feedbackID, Content: reply.Content, CreatedAt: reply.CreatedAt})
}

// pageParams reads the limit and cursor query parameters.
func pageParams(c echo.Context) (int, string, error) {
	limit := models.DefaultFeedbackPageSize
	if raw := c.QueryParam("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > models.MaxFeedbackPageSize {
			return 0, "", Fail(CodeInvalidRequest)
		}
		limit = n
	}
	cursor := c.QueryParam("cursor")
	if len(cursor) > maxCursorLength {
		return 0, "", Fail(CodeInvalidCursor)
	}
	return limit, cursor, nil
}

// cleanText trims s and reports whether it then has 1 to max characters
// and no control character, except newlines where multiline is set. CRLF
// and lone CR become LF first.
func cleanText(s string, max int, multiline bool) (string, bool) {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.TrimSpace(s)
	if s == "" || utf8.RuneCountInString(s) > max {
		return "", false
	}
	for _, r := range s {
		if unicode.IsControl(r) && (r != '\n' || !multiline) {
			return "", false
		}
	}
	return s, true
}
