// Command golden computes Tyk's webhook request checksum for the cases below with Go's net/http,
// as Tyk's webhook handler does (gateway/event_handler_webhooks.go, WebHookHandler.Checksum):
//
//	localRequest, _ := http.NewRequest(string(w.getRequestMethod(w.conf.Method)), w.conf.TargetPath, strings.NewReader(reqBody))
//	h := md5.New()
//	localRequest.Write(h)
//	return hex.EncodeToString(h.Sum(nil)), nil
//
// where getRequestMethod upper-cases the configured method. It writes, for every case, the bytes
// Request.Write produced and their MD5 to go/checksums.json, which Hookshot's checksum test
// (crates/cooldown/tests/checksum_go.rs) compares with.
//
// Run it through `cargo xtask golden`, from the workspace root:
//
//	go run . <crates/cooldown/tests> [<output root>]
//
// It writes <output root>/go/checksums.json; the output root is the first argument unless given.
package main

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// A webhook as configured (method, target_path) and the body its template rendered.
type input struct {
	What   string
	Method string
	URL    string
	Body   string
}

// tykBody is Tyk's own test vector's body: tabs as written, no trailing newline, &#43; as text.
const tykBody = "{\n\t\t\"event\": \"QuotaExceeded\",\n\t\t\"message\": \"Key Quota Limit Exceeded\",\n\t\t\"path\": \"/about-lonelycoder/\",\n\t\t\"origin\": \"\",\n\t\t\"key\": \"4321\",\n\t\t\"timestamp\": 2014-11-27 12:52:05.944549825 &#43;0000 GMT\n\t}"

const hook = "http://example.com/hook?x=1"

var inputs = []input{
	{"Tyk's own test vector", "GET", "http://127.0.0.1:16500/get", tykBody},
	// Each method, with and without a body.
	{"GET, no body", "GET", hook, ""},
	{"GET with a body", "GET", hook, `{"a":1}`},
	{"POST, no body", "POST", hook, ""},
	{"POST with a body", "POST", hook, `{"a":1}`},
	{"PUT, no body", "PUT", hook, ""},
	{"PUT with a body", "PUT", hook, `{"a":1}`},
	{"PATCH, no body", "PATCH", hook, ""},
	{"PATCH with a body", "PATCH", hook, `{"a":1}`},
	{"DELETE, no body", "DELETE", hook, ""},
	{"DELETE with a body", "DELETE", hook, `{"a":1}`},
	// Tyk upper-cases the configured method.
	{"method in lower case", "post", hook, `{"a":1}`},
	{"method in mixed case", "Delete", hook, ""},
	// No path, query without a path, root.
	{"no path", "POST", "http://example.com", "{}"},
	{"root path", "POST", "http://example.com/", "{}"},
	{"query without a path", "POST", "http://example.com?a=b", "{}"},
	// Ports: default ports are kept when written.
	{"port 80 written", "POST", "http://example.com:80/p", "{}"},
	{"port 443 written", "POST", "https://example.com:443/p", "{}"},
	{"other port", "POST", "http://example.com:8080/p", "{}"},
	{"empty port", "POST", "http://example.com:/p", "{}"},
	// https is not part of the request bytes.
	{"https", "POST", "https://example.com/p", "{}"},
	{"https, port and query", "POST", "https://example.com:8443/p?q=1&r=2", "{}"},
	// IPv6 hosts, with and without a port and zone.
	{"IPv6 with a port", "POST", "http://[::1]:8080/p", "{}"},
	{"IPv6", "POST", "http://[2001:db8::1]/p", "{}"},
	{"IPv6 with a zone", "POST", "http://[fe80::1%25en0]/p", "{}"},
	{"IPv6 with a zone and a port", "POST", "http://[fe80::1%25en0]:8080/p", "{}"},
	// User-info and fragments are not written; host case is kept.
	{"user-info", "POST", "http://user:pass@example.com/p", "{}"},
	{"fragment", "POST", "http://example.com/p#frag", "{}"},
	{"host and path case", "POST", "http://Example.COM/P", "{}"},
	// A bare '?' is kept; a second '?' belongs to the query.
	{"bare ?", "POST", "http://example.com/p?", "{}"},
	{"second ? in the query", "POST", "http://h.example:9/p?a=1?b=2", "{}"},
	// Paths Go keeps as written.
	{"escaped space", "POST", "http://example.com/a%20b", "{}"},
	{"lower-case escape", "POST", "http://example.com/a%7cb", "{}"},
	{"upper-case escape", "POST", "http://example.com/a%7Cb", "{}"},
	{"escaped UTF-8", "POST", "http://example.com/caf%C3%A9", "{}"},
	{"sub-delimiters", "POST", "http://example.com/a!$&'()*+,;=:@b[c]~_-.", "{}"},
	{"escaped slashes", "POST", "http://example.com/a%2Fb%2fc", "{}"},
	{"double slashes", "POST", "http://example.com//double//slash", "{}"},
	{"escaped letters", "POST", "http://example.com/%41%42", "{}"},
	{"escaped tilde and letter, query", "POST", "http://example.com/%7e%41?q", "{}"},
	// Paths Go re-escapes.
	{"pipe", "POST", "http://example.com/a|b", "{}"},
	{"double quote", "POST", "http://example.com/a\"b", "{}"},
	{"braces", "POST", "http://example.com/a{b}", "{}"},
	{"escape and pipe", "POST", "http://example.com/a%20|b", "{}"},
	{"sub-delimiter, pipe and brackets", "POST", "http://example.com/a!|b[c]", "{}"},
	{"raw UTF-8", "POST", "http://example.com/caf\u00e9", "{}"},
	// Bodies: multi-byte characters count in bytes; CR/LF as they are.
	{"multi-byte body", "POST", "http://example.com/unicode", "{\"m\":\"caf\u00e9 \u2615\"}"},
	{"CR/LF in the body", "POST", "http://example.com/crlf", "line1\r\nline2\n"},
	{"Tyk's test URL, POST", "POST", "http://127.0.0.1:16500/get", "{}"},
}

// A case with what Go wrote for it.
type vector struct {
	What    string `json:"what"`
	Method  string `json:"method"`
	URL     string `json:"url"`
	Body    string `json:"body"`
	Request string `json:"request"`
	MD5     string `json:"md5"`
}

type file struct {
	About   string   `json:"about"`
	Vectors []vector `json:"vectors"`
}

// getRequestMethod is Tyk's: the configured method upper-cased; anything but GET, PUT, POST,
// DELETE and PATCH becomes GET (Hookshot refuses those at load instead, so no case uses one).
func getRequestMethod(m string) string {
	switch upper := strings.ToUpper(m); upper {
	case "GET", "PUT", "POST", "DELETE", "PATCH":
		return upper
	default:
		return "GET"
	}
}

func compute(in input) (vector, error) {
	req, err := http.NewRequest(getRequestMethod(in.Method), in.URL, strings.NewReader(in.Body))
	if err != nil {
		// Tyk drops such a webhook before its checksum.
		return vector{}, fmt.Errorf("%s: %w", in.What, err)
	}
	var wrote bytes.Buffer
	if err := req.Write(&wrote); err != nil {
		return vector{}, fmt.Errorf("%s: %w", in.What, err)
	}
	sum := md5.Sum(wrote.Bytes())
	return vector{
		What:    in.What,
		Method:  in.Method,
		URL:     in.URL,
		Body:    in.Body,
		Request: wrote.String(),
		MD5:     hex.EncodeToString(sum[:]),
	}, nil
}

func run(out string) error {
	f := file{
		About: "Tyk's webhook checksum: the bytes Go's http.Request.Write wrote for " +
			"http.NewRequest(upper-cased method, url, body), and their MD5. " +
			"Written by crates/cooldown/tests/go (cargo xtask golden); do not edit.",
	}
	for _, in := range inputs {
		v, err := compute(in)
		if err != nil {
			return err
		}
		f.Vectors = append(f.Vectors, v)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return err
	}
	path := filepath.Join(out, "go", "checksums.json")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

func main() {
	if len(os.Args) != 2 && len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: golden <crates/cooldown/tests> [<output root>]")
		os.Exit(2)
	}
	out := os.Args[len(os.Args)-1]
	if err := run(out); err != nil {
		fmt.Fprintln(os.Stderr, "golden:", err)
		os.Exit(1)
	}
}
