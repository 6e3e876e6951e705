package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"
)

// Code is a stable error code clients can branch on.
type Code string

// The error codes of the API. Each has one HTTP status and a message in
// zh-CN and English in the catalog below. Error.Status overrides the status
// of ACCOUNT_NOT_CERTIFIED for account link requests.
const (
	CodeInvalidRequest        Code = "INVALID_REQUEST"
	CodeInvalidJSON           Code = "INVALID_JSON"
	CodeUnknownField          Code = "UNKNOWN_FIELD"
	CodeInvalidIDType         Code = "INVALID_ID_TYPE"
	CodeInvalidIDNumber       Code = "INVALID_ID_NUMBER"
	CodeInvalidName           Code = "INVALID_NAME"
	CodeInvalidOutcome        Code = "INVALID_OUTCOME"
	CodeUnsupportedDocument   Code = "FACE_VERIFICATION_UNSUPPORTED_DOCUMENT"
	CodeTooManyAttempts       Code = "TOO_MANY_ATTEMPTS"
	CodeUnauthenticated       Code = "UNAUTHENTICATED"
	CodeStaffTokenRequired    Code = "STAFF_TOKEN_REQUIRED"
	CodeForbidden             Code = "FORBIDDEN"
	CodeNotFound              Code = "NOT_FOUND"
	CodeMethodNotAllowed      Code = "METHOD_NOT_ALLOWED"
	CodeBodyTooLarge          Code = "REQUEST_TOO_LARGE"
	CodeUnsupportedMediaType  Code = "UNSUPPORTED_MEDIA_TYPE"
	CodeInvalidSignature      Code = "INVALID_SIGNATURE"
	CodeIdempotencyKeyReused  Code = "IDEMPOTENCY_KEY_REUSED"
	CodeIdempotencyKeyInUse   Code = "IDEMPOTENCY_KEY_IN_USE"
	CodeInvalidIdempotencyKey Code = "INVALID_IDEMPOTENCY_KEY"
	CodeVerificationDecided   Code = "VERIFICATION_ALREADY_DECIDED"
	CodeVerificationExpired   Code = "VERIFICATION_EXPIRED"
	CodeServiceUnavailable    Code = "SERVICE_UNAVAILABLE"
	CodeInternal              Code = "INTERNAL"
)

// Error codes of agent invitations and agents.
const (
	CodeInvalidMobile        Code = "INVALID_MOBILE"
	CodeInvalidStatus        Code = "INVALID_STATUS"
	CodeInvitationPending    Code = "INVITATION_PENDING"
	CodeAlreadyAgent         Code = "ALREADY_AGENT"
	CodeInvitationNotPending Code = "INVITATION_NOT_PENDING"
)

// Error codes of certification requests (经办人企业账户认证).
const (
	CodeAlreadyCertified            Code = "ALREADY_CERTIFIED"
	CodeCertificationRequestOpen    Code = "CERTIFICATION_REQUEST_OPEN"
	CodeCertificationRequestNotOpen Code = "CERTIFICATION_REQUEST_NOT_OPEN"
	CodeInvalidDecision             Code = "INVALID_DECISION"
	CodeLegalRepNotVerifiable       Code = "LEGAL_REPRESENTATIVE_NOT_VERIFIABLE"
)

// Error codes of account link requests (关联他人的企业账号).
const (
	CodeAccountNotFound       Code = "ACCOUNT_NOT_FOUND"
	CodeAlreadyMember         Code = "ALREADY_MEMBER"
	CodeLinkRequestOpen       Code = "LINK_REQUEST_OPEN"
	CodeLinkRequestNotPending Code = "LINK_REQUEST_NOT_PENDING"
)

// Error codes of enterprise accounts, 选择办事 and 法人账号 login.
const (
	CodeInvalidUSCC               Code = "INVALID_USCC"
	CodeInvalidEnterpriseName     Code = "INVALID_ENTERPRISE_NAME"
	CodeEnterpriseNotFound        Code = "ENTERPRISE_NOT_FOUND"
	CodeEnterpriseNameMismatch    Code = "ENTERPRISE_NAME_MISMATCH"
	CodeEnterpriseInactive        Code = "ENTERPRISE_INACTIVE"
	CodeAccountExists             Code = "ACCOUNT_EXISTS"
	CodeInvalidLoginName          Code = "INVALID_LOGIN_NAME"
	CodeWeakPassword              Code = "WEAK_PASSWORD"
	CodeLoginNameTaken            Code = "LOGIN_NAME_TAKEN"
	CodeInvalidCredentials        Code = "INVALID_CREDENTIALS"
	CodeLoginLocked               Code = "LOGIN_LOCKED"
	CodeAccountNotCertified       Code = "ACCOUNT_NOT_CERTIFIED"
	CodeEnterpriseSessionRequired Code = "ENTERPRISE_SESSION_REQUIRED"
	CodePersonSessionRequired     Code = "PERSON_SESSION_REQUIRED"
	CodeFaceLoginRequired         Code = "FACE_LOGIN_REQUIRED"
	CodeInvalidCursor             Code = "INVALID_CURSOR"
)

// Error codes of feedback (意见反馈) and the staff endpoints.
const (
	CodeInvalidFeedbackContent Code = "INVALID_FEEDBACK_CONTENT"
	CodeInvalidContact         Code = "INVALID_CONTACT"
	CodeInvalidStatusFilter    Code = "INVALID_STATUS_FILTER"
)

type entry struct {
	status int
	zh, en string
}

var catalog = map[Code]entry{
	CodeInvalidRequest:        {http.StatusBadRequest, "请求参数有误，请检查后重试。", "The request is invalid. Check it and try again."},
	CodeInvalidJSON:           {http.StatusBadRequest, "请求内容不是有效的 JSON。", "The request body is not valid JSON."},
	CodeUnknownField:          {http.StatusBadRequest, "请求中包含不支持的字段。", "The request contains a field that is not supported."},
	CodeInvalidIDType:         {http.StatusBadRequest, "证件类型无效。", "The id_type is invalid."},
	CodeInvalidIDNumber:       {http.StatusBadRequest, "证件号码格式或校验位有误，请核对后重新输入。", "The ID number is invalid: check its format and check character."},
	CodeInvalidName:           {http.StatusBadRequest, "姓名格式有误：请输入 1–64 个字，少数民族姓名可使用间隔号“·”。", "The name is invalid: enter 1 to 64 characters; minority names may use the middle dot."},
	CodeInvalidOutcome:        {http.StatusBadRequest, "核验结果取值无效，应为 pass、fail 或 cancel。", "The outcome is invalid: expected pass, fail or cancel."},
	CodeUnsupportedDocument:   {http.StatusUnprocessableEntity, "该证件暂不支持人脸核验登录，请拨打 12345 或 020-29859688 咨询其他办理方式。", "This document cannot be used for face verification. Call 12345 or 020-29859688 for other ways to proceed."},
	CodeTooManyAttempts:       {http.StatusTooManyRequests, "操作过于频繁，请稍后再试。", "Too many attempts. Try again later."},
	CodeUnauthenticated:       {http.StatusUnauthorized, "登录已失效或未登录，请重新登录。", "The session is missing or no longer valid. Log in again."},
	CodeStaffTokenRequired:    {http.StatusUnauthorized, "此接口仅供客服使用，请以 Authorization: Bearer 发送客服令牌（YST_STAFF_TOKEN）。", "This endpoint is for staff: send the staff token (YST_STAFF_TOKEN) as Authorization: Bearer."},
	CodeForbidden:             {http.StatusForbidden, "您无权进行此操作。", "You are not allowed to do this."},
	CodeNotFound:              {http.StatusNotFound, "请求的内容不存在。", "Not found."},
	CodeMethodNotAllowed:      {http.StatusMethodNotAllowed, "不支持该请求方法。", "The method is not allowed on this path."},
	CodeBodyTooLarge:          {http.StatusRequestEntityTooLarge, "请求内容超过 64 KiB 上限。", "The request body is larger than 64 KiB."},
	CodeUnsupportedMediaType:  {http.StatusUnsupportedMediaType, "请求内容类型应为 application/json。", "The request body must be application/json."},
	CodeInvalidSignature:      {http.StatusUnauthorized, "回调签名无效或已过期。", "The callback signature is invalid or its timestamp is outside the allowed window."},
	CodeIdempotencyKeyReused:  {http.StatusUnprocessableEntity, "该幂等键已用于内容不同的请求。", "This Idempotency-Key was already used with a different request body."},
	CodeIdempotencyKeyInUse:   {http.StatusConflict, "使用该幂等键的请求正在处理中，请稍后重试。", "A request with this Idempotency-Key is still in progress. Retry shortly."},
	CodeInvalidIdempotencyKey: {http.StatusBadRequest, "幂等键应为 1–255 个可见 ASCII 字符。", "The Idempotency-Key must be 1 to 255 visible ASCII characters."},
	CodeVerificationDecided:   {http.StatusConflict, "该人脸核验已有结果。", "This face verification already has an outcome."},
	CodeVerificationExpired:   {http.StatusConflict, "该人脸核验已过期，请重新发起。", "This face verification has expired. Start a new one."},
	CodeServiceUnavailable:    {http.StatusServiceUnavailable, "服务暂时不可用，请稍后重试。", "The service is temporarily unavailable. Try again shortly."},
	CodeInternal:              {http.StatusInternalServerError, "服务内部错误，请稍后重试。如持续出现，请拨打 12345 反馈。", "Internal error. Try again later; if it persists, call 12345."},

	// Feedback (意见反馈) and the staff endpoints.
	CodeInvalidFeedbackContent: {http.StatusBadRequest, "内容应为 1–2000 个字，除换行外不能包含控制字符。", "The content is invalid: enter 1 to 2000 characters, with no control characters other than line breaks."},
	CodeInvalidContact:         {http.StatusBadRequest, "联系方式应为 1–64 个字，不能包含换行或控制字符。", "The contact is invalid: enter 1 to 64 characters, with no line breaks or control characters."},
	CodeInvalidStatusFilter:    {http.StatusBadRequest, "状态筛选条件无效，应为 open 或 replied。", "The status filter is invalid: expected open or replied."},

	// Agent invitations and agents.
	CodeInvalidMobile:        {http.StatusBadRequest, "手机号码应为 11 位中国大陆手机号。", "The mobile number is invalid: expected 11 digits of a mainland China mobile number."},
	CodeInvalidStatus:        {http.StatusBadRequest, "状态筛选条件无效。", "The status filter is invalid."},
	CodeInvitationPending:    {http.StatusConflict, "已向此人发出邀请，请等待对方完成核验或撤销原邀请。", "A pending invitation for this person exists. Wait for it or revoke it first."},
	CodeAlreadyAgent:         {http.StatusConflict, "此人已是该企业账号的经办人。", "This person is already an agent of the account."},
	CodeInvitationNotPending: {http.StatusConflict, "该邀请已结束（已接受、已撤销、已过期或已失效）。", "The invitation is no longer pending: it was accepted, revoked, expired or failed."},

	// Certification requests (经办人企业账户认证).
	CodeAlreadyCertified:            {http.StatusConflict, "该企业账号已认证，无需再申请认证。", "This enterprise account is already certified."},
	CodeCertificationRequestOpen:    {http.StatusConflict, "该企业账号已有进行中的认证申请，请等待法定代表人处理，或撤销原申请后再试。", "This account already has an open certification request. Wait for the legal representative, or cancel it first."},
	CodeCertificationRequestNotOpen: {http.StatusConflict, "该认证申请已结束（已认证、已拒绝、已撤销、已过期或已失败）。", "The certification request has ended: it was certified, refused, cancelled, expired or failed."},
	CodeInvalidDecision:             {http.StatusBadRequest, "decision 取值无效，应为 agree 或 refuse。", "The decision is invalid: expected agree or refuse."},
	CodeLegalRepNotVerifiable:       {http.StatusUnprocessableEntity, "登记的法定代表人证件暂不支持人脸核验，无法在线认证，请拨打 12345 或 020-29859688 咨询其他办理方式。", "The registered legal representative's identity document cannot be face-verified, so the account cannot be certified online. Call 12345 or 020-29859688 for other ways to proceed."},

	// Account link requests (关联他人的企业账号).
	CodeAccountNotFound:       {http.StatusNotFound, "未找到该企业账号，请核对法人账号和统一社会信用代码。", "No enterprise account has this login name and unified social credit code. Check both and try again."},
	CodeAlreadyMember:         {http.StatusConflict, "您已是该企业账号的成员，请在“选择办事”中直接选择。", "You are already a member of this enterprise account. Choose it from your enterprise accounts."},
	CodeLinkRequestOpen:       {http.StatusConflict, "您已申请关联该企业账号，请等待账号申请人审批，或撤销原申请后再试。", "You already have a pending link request for this account. Wait for the applicant's decision, or cancel it first."},
	CodeLinkRequestNotPending: {http.StatusConflict, "该关联申请已结束（已同意、已拒绝、已撤销或已过期）。", "The link request is no longer pending: it was approved, rejected, cancelled or expired."},

	// Enterprise accounts, 选择办事 and 法人账号 login.
	// ACCOUNT_NOT_CERTIFIED is 403 when a session's own account is not
	// certified for some business, and 422 for an account link request to an
	// uncertified account: that handler sets Error.Status.
	CodeInvalidUSCC:               {http.StatusBadRequest, "统一社会信用代码格式或校验位有误，请对照营业执照重新输入。", "The unified social credit code (uscc) is invalid: check its 18 characters and its check character against the business licence."},
	CodeInvalidEnterpriseName:     {http.StatusBadRequest, "请输入企业名称，最多 200 个字。", "The enterprise_name is invalid: enter 1 to 200 characters."},
	CodeEnterpriseNotFound:        {http.StatusUnprocessableEntity, "市场主体登记信息中没有该统一社会信用代码，请核对后重新输入。", "No enterprise is registered under this unified social credit code. Check the code and try again."},
	CodeEnterpriseNameMismatch:    {http.StatusUnprocessableEntity, "企业名称与登记信息不一致，请按营业执照上的名称填写。", "The enterprise name does not match the registered name. Enter it as it appears on the business licence."},
	CodeEnterpriseInactive:        {http.StatusUnprocessableEntity, "该企业已注销或被吊销，不能添加。", "The enterprise is deregistered and cannot be added."},
	CodeAccountExists:             {http.StatusConflict, "您已添加过该企业，请在“选择办事”中直接选择。", "You already have an account for this enterprise. Choose it from your enterprise accounts."},
	CodeInvalidLoginName:          {http.StatusBadRequest, "法人账号应为 4–32 位小写字母、数字或 _ . -。", "The login_name is invalid: use 4 to 32 of a-z, 0-9, '_', '.' and '-'."},
	CodeWeakPassword:              {http.StatusBadRequest, "密码应为 10–128 个字符，不能只重复同一个字符，也不能包含法人账号。", "The password is too weak: use 10 to 128 characters, not one character repeated, and not containing the login name."},
	CodeLoginNameTaken:            {http.StatusConflict, "该法人账号已被使用，请换一个。", "This login name is taken. Choose another."},
	CodeInvalidCredentials:        {http.StatusUnauthorized, "法人账号或密码错误。", "The login name or password is wrong."},
	CodeLoginLocked:               {http.StatusTooManyRequests, "密码连续输错 5 次，该法人账号已锁定 15 分钟，请稍后再试。", "Five wrong passwords in a row: this login name is locked for 15 minutes. Try again later."},
	CodeAccountNotCertified:       {http.StatusForbidden, "该企业账号未认证，请先去认证。", "This enterprise account is not certified. Certify it first."},
	CodeEnterpriseSessionRequired: {http.StatusForbidden, "请先在“选择办事”中选择要办理业务的企业。", "This needs an enterprise session: choose the enterprise account to act for first."},
	CodePersonSessionRequired:     {http.StatusForbidden, "请使用人脸识别登录后的个人会话办理，不要使用企业会话。", "This needs the person session from face login, not an enterprise session."},
	CodeFaceLoginRequired:         {http.StatusForbidden, "该操作需要先通过人脸识别登录。", "This needs a session from face login; a session from password login is not enough."},
	CodeInvalidCursor:             {http.StatusBadRequest, "分页参数无效，请从第一页重新读取。", "The cursor is invalid. Start again from the first page."},
}

// Error is an API error with a stable code. Its cause is logged, never sent.
type Error struct {
	Code Code
	// Status, when not zero, replaces the catalog's HTTP status of Code, for
	// the one place where the contract gives a code a second status.
	Status int
	cause  error
}

func (e *Error) Error() string {
	if e.cause != nil {
		return string(e.Code) + ": " + e.cause.Error()
	}
	return string(e.Code)
}

func (e *Error) Unwrap() error { return e.cause }

// Fail returns an API error with code.
func Fail(code Code) *Error { return &Error{Code: code} }

// FailWith returns an API error with code caused by err.
func FailWith(code Code, err error) *Error { return &Error{Code: code, cause: err} }

// WithStatus sets the HTTP status e is sent with in place of its code's
// catalog status, and returns e.
func (e *Error) WithStatus(status int) *Error {
	e.Status = status
	return e
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      Code   `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
}

// wantsEnglish reports whether Accept-Language prefers English. zh-CN is the
// default for everything else.
func wantsEnglish(c echo.Context) bool {
	lang := strings.ToLower(strings.TrimSpace(c.Request().Header.Get("Accept-Language")))
	return strings.HasPrefix(lang, "en")
}

// message returns the localized message of code.
func message(c echo.Context, code Code) string {
	e := catalog[code]
	if wantsEnglish(c) {
		return e.en
	}
	return e.zh
}

// errorHandler renders every error in the one error shape and logs it once:
// 4xx at warn, 5xx at error with the cause.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	apiErr := s.toAPIError(err)
	e, ok := catalog[apiErr.Code]
	if !ok {
		e = catalog[CodeInternal]
	}
	if apiErr.Status != 0 {
		e.status = apiErr.Status
	}
	fields := []zap.Field{
		zap.String("request_id", requestID(c)),
		zap.String("route", c.Path()),
		zap.String("code", string(apiErr.Code)),
		zap.Int("status", e.status),
	}
	if e.status >= 500 {
		s.log.Error("request failed", append(fields, zap.Error(err))...)
	} else {
		s.log.Warn("request rejected", fields...)
	}
	setErrorHeaders(c.Response().Header(), apiErr.Code, e.status)
	body := errorBody{Error: errorDetail{Code: apiErr.Code, Message: message(c, apiErr.Code), RequestID: requestID(c)}}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(e.status)
		return
	}
	_ = c.JSON(e.status, body)
}

// setErrorHeaders adds the scheme to use that RFC 9110 requires on a 401,
// and on a 429 the number of seconds after which a client may retry.
func setErrorHeaders(h http.Header, code Code, status int) {
	switch status {
	case http.StatusUnauthorized:
		h.Set("WWW-Authenticate", `Bearer realm="yst"`)
	case http.StatusTooManyRequests:
		retryAfter := "60"
		if code == CodeLoginLocked {
			retryAfter = "900" // the 15-minute lockout
		}
		h.Set("Retry-After", retryAfter)
	}
}

// toAPIError maps any error to an API error; unknown errors become INTERNAL.
func (s *Server) toAPIError(err error) *Error {
	var apiErr *Error
	if errors.As(err, &apiErr) {
		return apiErr
	}
	var httpErr *echo.HTTPError
	if errors.As(err, &httpErr) {
		switch httpErr.Code {
		case http.StatusNotFound:
			return FailWith(CodeNotFound, err)
		case http.StatusMethodNotAllowed:
			return FailWith(CodeMethodNotAllowed, err)
		case http.StatusRequestEntityTooLarge:
			return FailWith(CodeBodyTooLarge, err)
		case http.StatusUnsupportedMediaType:
			return FailWith(CodeUnsupportedMediaType, err)
		case http.StatusUnauthorized:
			return FailWith(CodeUnauthenticated, err)
		case http.StatusServiceUnavailable:
			return FailWith(CodeServiceUnavailable, err)
		}
		if httpErr.Code >= 400 && httpErr.Code < 500 {
			return FailWith(CodeInvalidRequest, err)
		}
	}
	if isUnavailable(err) {
		return FailWith(CodeServiceUnavailable, err)
	}
	return FailWith(CodeInternal, err)
}
