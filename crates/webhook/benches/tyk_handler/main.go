// The work Tyk's webhook handler does for each event, as a baseline for Hookshot's delivery
// benchmark: render the body with html/template, build the request, MD5 the bytes
// http.Request.Write produces for it, check the cool-down cache, send it with net/http, read the
// answer, set the cache. It follows Tyk's WebHookHandler.HandleEvent, with a bounded number of
// events in flight (Tyk starts a goroutine per event).
//
// TRANSPORT is `default`, Go's default transport as Tyk uses it (it keeps 2 idle connections per
// host, so under load most requests open a new connection), or `pooled`, a transport that keeps as
// many idle connections as there are events in flight.
//
// Usage: tyk_handler URL TEMPLATE EVENTS IN_FLIGHT RUN TRANSPORT
// Prints the events handled per second, after a warm-up.
package main

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// EventMetaDefault, EventKeyFailureMeta and EventMessage have the shape of Tyk's.
type EventMetaDefault struct {
	Message            string
	OriginatingRequest string
}

type EventKeyFailureMeta struct {
	EventMetaDefault
	Path   string
	Origin string
	Key    string
}

type EventMessage struct {
	Type      string
	Meta      interface{}
	TimeStamp string
}

// cache is the cool-down store: checksum to expiry.
type cache struct {
	mu   sync.Mutex
	keys map[string]time.Time
}

func (c *cache) fired(sum string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	until, ok := c.keys[sum]
	return ok && time.Now().Before(until)
}

func (c *cache) set(sum string, ttl time.Duration) {
	c.mu.Lock()
	c.keys[sum] = time.Now().Add(ttl)
	c.mu.Unlock()
}

type handler struct {
	url       string
	tmpl      *template.Template
	transport http.RoundTripper
	cache     *cache
	failed    int64
	held      int64
}

func (h *handler) handle(em EventMessage) {
	var body bytes.Buffer
	if err := h.tmpl.Execute(&body, em); err != nil {
		atomic.AddInt64(&h.failed, 1)
		return
	}
	reqBody := body.String()
	req, err := http.NewRequest("POST", h.url, strings.NewReader(reqBody))
	if err != nil {
		atomic.AddInt64(&h.failed, 1)
		return
	}
	req.Header.Set("User-Agent", "Tyk-Hookshot")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Tyk-Test-Header", "Tyk v1.BANANA")
	// The checksum, from a second request as Tyk builds it.
	local, _ := http.NewRequest("POST", h.url, strings.NewReader(reqBody))
	sum := md5.New()
	local.Write(sum)
	checksum := hex.EncodeToString(sum.Sum(nil))
	if h.cache.fired(checksum) {
		atomic.AddInt64(&h.held, 1)
		return
	}
	cli := &http.Client{Timeout: 30 * time.Second, Transport: h.transport}
	resp, err := cli.Do(req)
	if err != nil || resp.StatusCode/100 != 2 {
		atomic.AddInt64(&h.failed, 1)
	}
	if err == nil {
		io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	h.cache.set(checksum, 60*time.Second)
}

func events(n int, run string) []EventMessage {
	out := make([]EventMessage, n)
	for i := range out {
		out[i] = EventMessage{
			Type: "AuthFailure",
			Meta: EventKeyFailureMeta{
				EventMetaDefault: EventMetaDefault{
					Message:            "Auth Failure",
					OriginatingRequest: "R0VUIC9vcmRlcnMvIEhUVFAvMS4x",
				},
				Path:   fmt.Sprintf("/orders/%d", i),
				Origin: "203.0.113.7",
				Key:    fmt.Sprintf("key-%s-%d", run, i),
			},
			TimeStamp: time.Now().String(),
		}
	}
	return out
}

func (h *handler) round(evs []EventMessage, inFlight int) time.Duration {
	var next int64 = -1
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < inFlight; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := atomic.AddInt64(&next, 1)
				if i >= int64(len(evs)) {
					return
				}
				h.handle(evs[i])
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}

func main() {
	if len(os.Args) != 7 {
		fmt.Fprintln(os.Stderr, "usage: tyk_handler URL TEMPLATE EVENTS IN_FLIGHT RUN default|pooled")
		os.Exit(2)
	}
	url, path, run := os.Args[1], os.Args[2], os.Args[5]
	n, err1 := strconv.Atoi(os.Args[3])
	inFlight, err2 := strconv.Atoi(os.Args[4])
	if err1 != nil || err2 != nil {
		fmt.Fprintln(os.Stderr, "EVENTS and IN_FLIGHT must be numbers")
		os.Exit(2)
	}
	funcs := template.FuncMap{
		"as_rfc3339": func(t time.Time) string { return t.Format(time.RFC3339) },
		"as_rfc3339_from_string": func(s string) string {
			t, err := time.Parse("2006-01-02 15:04:05.999999999 -0700 MST", s)
			if err != nil {
				return s
			}
			return t.Format(time.RFC3339)
		},
	}
	tmpl, err := template.New(filepath.Base(path)).Funcs(funcs).ParseFiles(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var transport http.RoundTripper
	switch os.Args[6] {
	case "default":
		transport = http.DefaultTransport
	case "pooled":
		transport = &http.Transport{
			MaxIdleConns:        2 * inFlight,
			MaxIdleConnsPerHost: inFlight,
			IdleConnTimeout:     90 * time.Second,
		}
	default:
		fmt.Fprintln(os.Stderr, "TRANSPORT must be default or pooled")
		os.Exit(2)
	}
	h := &handler{
		url:       url,
		tmpl:      tmpl,
		transport: transport,
		cache:     &cache{keys: make(map[string]time.Time)},
	}
	h.round(events(n/10, run+"-warm"), inFlight)
	took := h.round(events(n, run), inFlight)
	if h.failed > 0 || h.held > 0 {
		fmt.Fprintf(os.Stderr, "%d events failed and %d were held back\n", h.failed, h.held)
		os.Exit(1)
	}
	fmt.Printf("%.1f\n", float64(n)/took.Seconds())
}
