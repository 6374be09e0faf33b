// Command golden renders Hookshot's Go-syntax test templates with Go's html/template, as Tyk's
// webhook handler does (gateway/event_handler_webhooks.go: htmltemplate.New(name).Funcs(...)
// .ParseFiles(path), then Execute with the event message), and writes what Go produced as the
// fixtures Hookshot's tests compare with.
//
// Run it through `cargo xtask golden`, from the workspace root:
//
//	go run . <crates/template/tests> [<output root>]
//
// It writes, under the output root (the first argument unless given):
//   - go/expected.json: for every template of go/templates/ and every event of go/events/, Go's
//     output byte for byte;
//   - fixtures/go_expected.json: for the templates of fixtures/go/ and the events of
//     fixtures/events/, Go's output, with HTML entities decoded for `.json` templates (the escaping
//     Hookshot deliberately does differently for JSON) and byte for byte for the others;
//   - go/constructs_expected.json: for every case of go/constructs.json (a name, a template's text
//     and an event of fixtures/events/), the case with Go's output byte for byte, rendered as a
//     template named case.txt.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	htmltemplate "html/template"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Tyk's template functions (templateFuncAsRFC3339, templateFuncAsRFC3339FromString). Tyk's
// as_rfc3339 takes a time.Time; the events here are JSON, so a time arrives as Go's time string or
// RFC 3339 text and is parsed first, as Hookshot's event model does.
var funcs = htmltemplate.FuncMap{
	"as_rfc3339": func(v any) (string, error) {
		switch t := v.(type) {
		case time.Time:
			return t.Format(time.RFC3339), nil
		case string:
			if p, err := parseGoTime(t); err == nil {
				return p.Format(time.RFC3339), nil
			}
			if p, err := time.Parse(time.RFC3339Nano, t); err == nil {
				return p.Format(time.RFC3339), nil
			}
			return t, nil
		}
		return "", fmt.Errorf("as_rfc3339: unexpected %T", v)
	},
	"as_rfc3339_from_string": func(s string) string {
		if t, err := parseGoTime(s); err == nil {
			return t.Format(time.RFC3339)
		}
		return s
	},
}

func parseGoTime(s string) (time.Time, error) {
	return time.Parse("2006-01-02 15:04:05.999999999 -0700 MST", s)
}

// numbers turns json.Number into int64 (whole numbers) or float64, as Tyk's typed metadata holds them.
func numbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = numbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbers(e)
		}
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	}
	return v
}

func readEvent(path string) (map[string]any, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var ev map[string]any
	if err := d.Decode(&ev); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return numbers(ev).(map[string]any), nil
}

func render(path string, ev map[string]any) (string, error) {
	t, err := htmltemplate.New(filepath.Base(path)).Funcs(funcs).ParseFiles(path)
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	if err := t.Execute(&out, ev); err != nil {
		return "", err
	}
	return out.String(), nil
}

func files(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// table renders every template of tdir against every event of edir; keep says which pairs to
// render, and post turns Go's output into the expected text.
func table(tdir, edir string, keep func(tmpl, event string) bool, post func(tmpl, out string) string) (map[string]map[string]string, error) {
	templates, err := files(tdir)
	if err != nil {
		return nil, err
	}
	events, err := files(edir)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]string{}
	for _, tmpl := range templates {
		by := map[string]string{}
		for _, file := range events {
			name := strings.TrimSuffix(file, ".json")
			if !keep(tmpl, name) {
				continue
			}
			ev, err := readEvent(filepath.Join(edir, file))
			if err != nil {
				return nil, err
			}
			body, err := render(filepath.Join(tdir, tmpl), ev)
			if err != nil {
				return nil, fmt.Errorf("%s with %s: %w", tmpl, name, err)
			}
			by[name] = post(tmpl, body)
		}
		if len(by) > 0 {
			out[tmpl] = by
		}
	}
	return out, nil
}

func write(path string, v any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// The fixtures hold the bytes Go wrote: no escaping of <, > and & into \u003c...
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// A case of go/constructs.json, and Go's output for it.
type construct struct {
	What     string `json:"what"`
	Template string `json:"template"`
	Event    string `json:"event"`
	Output   string `json:"output"`
}

// constructs renders each case of go/constructs.json in order.
func constructs(root string) ([]construct, error) {
	raw, err := os.ReadFile(filepath.Join(root, "go", "constructs.json"))
	if err != nil {
		return nil, err
	}
	var cases []construct
	if err := json.Unmarshal(raw, &cases); err != nil {
		return nil, fmt.Errorf("go/constructs.json: %w", err)
	}
	for i, c := range cases {
		ev, err := readEvent(filepath.Join(root, "fixtures", "events", c.Event+".json"))
		if err != nil {
			return nil, err
		}
		t, err := htmltemplate.New("case.txt").Funcs(funcs).Parse(c.Template)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.What, err)
		}
		var out bytes.Buffer
		if err := t.Execute(&out, ev); err != nil {
			return nil, fmt.Errorf("%s: %w", c.What, err)
		}
		cases[i].Output = out.String()
	}
	return cases, nil
}

func run(root, out string) error {
	cases, err := constructs(root)
	if err != nil {
		return err
	}
	if err := write(filepath.Join(out, "go", "constructs_expected.json"), cases); err != nil {
		return err
	}
	golden, err := table(
		filepath.Join(root, "go", "templates"),
		filepath.Join(root, "go", "events"),
		func(string, string) bool { return true },
		func(_ string, out string) string { return out },
	)
	if err != nil {
		return err
	}
	if err := write(filepath.Join(out, "go", "expected.json"), golden); err != nil {
		return err
	}
	parity, err := table(
		filepath.Join(root, "fixtures", "go"),
		filepath.Join(root, "fixtures", "events"),
		func(tmpl, event string) bool {
			// transform_style.tmpl loops with {{range}}, which Hookshot refuses; the event full of
			// markup is for the markup template.
			if tmpl == "transform_style.tmpl" {
				return false
			}
			// Deploy_nested is for the liquid tests.
			if event == "Deploy_nested" {
				return false
			}
			return event != "AuthFailure_special" || strings.HasSuffix(tmpl, ".xml")
		},
		func(tmpl, out string) string {
			if strings.HasSuffix(tmpl, ".json") {
				return html.UnescapeString(out)
			}
			return out
		},
	)
	if err != nil {
		return err
	}
	return write(filepath.Join(out, "fixtures", "go_expected.json"), parity)
}

func main() {
	if len(os.Args) != 2 && len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: golden <crates/template/tests> [<output root>]")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[len(os.Args)-1]); err != nil {
		fmt.Fprintln(os.Stderr, "golden:", err)
		os.Exit(1)
	}
}
