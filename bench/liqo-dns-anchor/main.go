// Liqo v0.2's SearchDomain look-up (LoadAuthDataFromDNS, internal/discovery/search-domain-operator/
// wan.go) rebuilt with the same library and version Liqo used (miekg/dns v1.1.27), as an anchor
// for bench/dns.ts: a PTR query on the bare domain, then one SRV Exchange per PTR answer, in
// sequence, each on a new UDP socket (what dns.Client.Exchange does), RD set, no EDNS.
//
// One deviation, generous to Liqo: its client has no TCP fallback, so the truncated PTR answer of
// a 1,000-record zone would give it nothing; here a truncated answer is asked again over TCP.
//
//	liqo-dns-anchor <server host:port> <domain> <runs>
//	liqo-dns-anchor floor <server host:port> <domain> <runs> <clusters> <in flight>
//
// The floor mode is not Liqo's: it sends the SRV and TXT questions of cluster-0 … cluster-<N-1>
// (what ours asks per cluster) on one connected UDP socket, keeping <in flight> outstanding,
// and unpacks every reply with miekg/dns; no checks, no timers. It is what a compiled client on
// raw sockets needs at the least against the server, for bench/dns.ts's loopback row.
//
// Prints one line of JSON: {"found": N, "ms": [per-run milliseconds]}. The timing is taken inside
// the program, so process start-up is not counted.
package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/miekg/dns"
)

func exchange(c *dns.Client, m *dns.Msg, server string) (*dns.Msg, error) {
	in, _, err := c.Exchange(m, server)
	if err == nil && in.Truncated {
		tcp := &dns.Client{Net: "tcp", DialTimeout: c.DialTimeout}
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

// floor sends 2×clusters questions with inFlight outstanding; returns the SRV answers counted.
func floor(server, domain string, clusters, inFlight int) (int, error) {
	queries := make([][]byte, 2*clusters)
	for i := range queries {
		m := new(dns.Msg)
		qtype := dns.TypeSRV
		if i%2 == 1 {
			qtype = dns.TypeTXT
		}
		m.SetQuestion(fmt.Sprintf("cluster-%d.%s", i/2, dns.Fqdn(domain)), qtype)
		m.Id = uint16(i)
		packed, err := m.Pack()
		if err != nil {
			return 0, err
		}
		queries[i] = packed
	}
	conn, err := net.Dial("udp", server)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	sent, srv := 0, 0
	for ; sent < inFlight && sent < len(queries); sent++ {
		if _, err := conn.Write(queries[sent]); err != nil {
			return 0, err
		}
	}
	buf := make([]byte, 65535)
	for got := 0; got < len(queries); got++ {
		// A lost datagram would stall the loop: fail instead, as bench/dns.ts's floor does.
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			return srv, fmt.Errorf("floor: replies stopped after %d: %v", got, err)
		}
		reply := new(dns.Msg)
		if reply.Unpack(buf[:n]) == nil && len(reply.Answer) > 0 {
			if _, ok := reply.Answer[0].(*dns.SRV); ok {
				srv++
			}
		}
		if sent < len(queries) {
			if _, err := conn.Write(queries[sent]); err != nil {
				return srv, err
			}
			sent++
		}
	}
	return srv, nil
}

func mainFloor(args []string) {
	if len(args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: liqo-dns-anchor floor <server host:port> <domain> <runs> <clusters> <in flight>")
		os.Exit(2)
	}
	numbers := make([]int, 3)
	for i, text := range args[2:] {
		n, err := strconv.Atoi(text)
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "%q must be a positive integer\n", text)
			os.Exit(2)
		}
		numbers[i] = n
	}
	runs, clusters, inFlight := numbers[0], numbers[1], numbers[2]
	out := struct {
		Found int       `json:"found"`
		Ms    []float64 `json:"ms"`
	}{}
	for i := 0; i < runs; i++ {
		start := time.Now()
		found, err := floor(args[0], args[1], clusters, inFlight)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		out.Found = found
		out.Ms = append(out.Ms, float64(time.Since(start).Microseconds())/1000)
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "floor" {
		mainFloor(os.Args[2:])
		return
	}
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
