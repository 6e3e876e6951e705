package api

import (
	"errors"
	"html/template"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gdyst/accountflows/face/sandbox"
	"github.com/gdyst/accountflows/identity"
)

var sandboxPage = template.Must(template.New("sandbox").Parse(`<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>粤信签 · 人脸核验（沙箱）</title>
<style>
body{font-family:system-ui,"PingFang SC","Noto Sans CJK SC",sans-serif;max-width:420px;margin:2rem auto;padding:0 1rem;color:#1f2329}
h1{font-size:1.3rem} .card{border:1px solid #dee0e3;border-radius:12px;padding:1rem;margin:1rem 0}
.note{color:#646a73;font-size:.9rem} button{width:100%;padding:.8rem;margin:.4rem 0;border-radius:8px;border:0;font-size:1rem}
#pass{background:#1664ff;color:#fff} #fail{background:#f54a45;color:#fff} #cancel{background:#eff0f1}
#result{font-weight:600;margin-top:1rem}
</style>
</head>
<body>
<h1>粤信签 · 人脸核验</h1>
<p class="note">这是开发和测试用的沙箱，模拟粤信签小程序的人脸核验，不采集任何人脸图像。</p>
<div class="card">
<div>核验对象：<span id="name">{{.NameMasked}}</span></div>
<div>证件号码：<span id="id-number">{{.IDNumberMasked}}</span></div>
<div class="note">有效期至 {{.ExpiresAt.Format "2006-01-02 15:04:05"}} (UTC)</div>
</div>
{{if .Outcome}}<p id="result">本次核验已有结果：{{.OutcomeText}}</p>{{else}}
<button id="pass" onclick="decide('pass')">通过</button>
<button id="fail" onclick="decide('fail')">不通过</button>
<button id="cancel" onclick="decide('cancel')">取消</button>
<p id="result"></p>{{end}}
<script>
async function decide(outcome) {
  const res = await fetch(location.pathname, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({outcome})});
  const text = {pass: '核验通过，请返回粤商通。', fail: '核验未通过，请返回粤商通。', cancel: '已取消核验，请返回粤商通。'}[outcome];
  document.getElementById('result').textContent = res.status === 204 ? text : '提交失败（' + res.status + '），请刷新后重试。';
  document.querySelectorAll('button').forEach(b => b.disabled = true);
}
</script>
</body>
</html>
`))

var outcomeText = map[string]string{
	sandbox.OutcomePass:   "通过",
	sandbox.OutcomeFail:   "不通过",
	sandbox.OutcomeCancel: "已取消",
}

// sandboxPage plays the 粤信签 mini program: it shows the masked expected
// identity and three buttons.
func (s *Server) sandboxPage(c echo.Context) error {
	token := c.Param("token")
	if len(token) > 256 {
		return Fail(CodeNotFound)
	}
	view, err := s.sandbox.View(c.Request().Context(), token)
	if errors.Is(err, sandbox.ErrNotFound) {
		return Fail(CodeNotFound)
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	return sandboxPage.Execute(c.Response(), struct {
		sandbox.PageView
		OutcomeText string
	}{view, outcomeText[view.Outcome]})
}

type sandboxDecisionRequest struct {
	Outcome          string `json:"outcome"`
	VerifiedName     string `json:"verified_name"`
	VerifiedIDNumber string `json:"verified_id_number"`
}

// sandboxDecide records the tester's outcome; the sandbox then pushes a
// signed callback to this API.
func (s *Server) sandboxDecide(c echo.Context) error {
	token := c.Param("token")
	if len(token) > 256 {
		return Fail(CodeNotFound)
	}
	var req sandboxDecisionRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if _, ok := outcomeText[req.Outcome]; !ok {
		return Fail(CodeInvalidOutcome)
	}
	decision := sandbox.Decision{Outcome: req.Outcome}
	if req.VerifiedName != "" {
		name, err := identity.NormalizeName(req.VerifiedName)
		if err != nil {
			return Fail(CodeInvalidName)
		}
		decision.VerifiedName = name
	}
	if req.VerifiedIDNumber != "" {
		if len(req.VerifiedIDNumber) > 32 || !printableASCII(req.VerifiedIDNumber) {
			return Fail(CodeInvalidIDNumber)
		}
		decision.VerifiedIDNumber = req.VerifiedIDNumber
	}
	err := s.sandbox.Decide(c.Request().Context(), token, decision)
	switch {
	case errors.Is(err, sandbox.ErrNotFound):
		return Fail(CodeNotFound)
	case errors.Is(err, sandbox.ErrAlreadyDecided):
		return Fail(CodeVerificationDecided)
	case errors.Is(err, sandbox.ErrExpired):
		return Fail(CodeVerificationExpired)
	case err != nil:
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// printableASCII reports whether s has only the visible ASCII characters
// that ID numbers of every document type are written in.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
