// Liqo v0.2's SearchDomain look-up (LoadAuthDataFromDNS, internal/discovery/search-domain-operator/
// wan.go) rebuilt with the same library and version Liqo used (miekg/dns v1.1.27), as an anchor
// for bench/dns.ts: a PTR query on the bare domain, then one SRV Exchange per PTR answer, in
// sequence, each on a new UDP socket (what dns.Client.Exchange does), RD set, no EDNS.
//
// One deviation, generous to Liqo: its client has no TCP fallback, so the truncated PTR answer of
// a 1,000-record zone would give it nothing; here a truncated answer is asked again over TCP.
//
//	liqo-dns-anchor <server host:port> <domain> <runs>
//
// Prints one line of JSON: {"found": N, "ms": [per-run milliseconds]}. The timing is taken inside
// the program, so process start-up is not counted.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/miekg/dns"
)

func exchange(c *dns.Client, m *dns.Msg, server string) (*dns.Msg, error) {
	in, _, err := c.Exchange(m, server)
	if err == nil && in.Truncated {
		tcp := *c
		tcp.Net = "tcp"
		in, _, err = tcp.Exchange(m, server)
	}
	return in, err
}

func lookup(server, domain string) (int, error) {
	c := &dns.Client{Net: "udp", DialTimeout: 30 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(domain), dns.TypePTR)
	in, err := exchange(c, m, server)
	if err != nil {
		return 0, err
	}
	found := 0
	for _, rr := range in.Answer {
		ptr, ok := rr.(*dns.PTR)
		if !ok {
			continue
		}
		q := new(dns.Msg)
		q.SetQuestion(ptr.Ptr, dns.TypeSRV)
		r, err := exchange(c, q, server)
		if err != nil {
			return found, err
		}
		if len(r.Answer) == 0 {
			return found, fmt.Errorf("SRV record is not set for %s", ptr.Ptr)
		}
		if _, ok := r.Answer[0].(*dns.SRV); ok {
			found++
		}
	}
	return found, nil
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: liqo-dns-anchor <server host:port> <domain> <runs>")
		os.Exit(2)
	}
	runs, err := strconv.Atoi(os.Args[3])
	if err != nil || runs < 1 {
		fmt.Fprintln(os.Stderr, "runs must be a positive integer")
		os.Exit(2)
	}
	out := struct {
		Found int       `json:"found"`
		Ms    []float64 `json:"ms"`
	}{}
	for i := 0; i < runs; i++ {
		start := time.Now()
		found, err := lookup(os.Args[1], os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		out.Found = found
		out.Ms = append(out.Ms, float64(time.Since(start).Microseconds())/1000)
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
}
