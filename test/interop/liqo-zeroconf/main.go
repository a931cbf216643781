// A TEST DRIVER of the real mDNS library Liqo v0.2 used, not part of our product: the module
// github.com/grandcat/zeroconf replaced by Liqo's fork github.com/liqotech/zeroconf
// v1.0.1-0.20201020081245-6384f3f21ffb, exactly as Liqo v0.2's go.mod did. Our interop tests
// (test/integration/mdns-liqo-zeroconf.test.ts) run it inside network namespaces to check our
// browser and advertiser against the library itself rather than against our emulator
// (test/helpers/liqo-v02-advertiser.ts). It calls the library the way Liqo v0.2's discovery
// does, as described in shared/reference/liqo-v0.2-facts.md §2; no Liqo code is copied here.
//
//	liqo-zeroconf register <clusterId> <port> <ifaceName> <ttl>
//	    zeroconf.Register(clusterId, "_liqo_auth._tcp", "local.", port, nil TXT, [iface], ttl),
//	    then the fork's SendMulticast every 12 s (Liqo's gratuitous answers). SIGTERM, SIGINT or
//	    a "stop" line on stdin: Shutdown (the library's goodbye, TTL 0) and exit 0.
//	liqo-zeroconf browse <service> <ifaceName>
//	    zeroconf.NewResolver(SelectIPTraffic(IPv4), SelectIfaces([iface])) and Browse(service,
//	    "local."), as Liqo v0.2's resolver does; every entry the library emits is printed.
//
// stdout, one JSON object per line:
//
//	{"event":"ready", ...}   registered / browsing
//	{"event":"gratuitous"}   one SendMulticast sent
//	{"event":"entry","instance","hostname","port","ipv4":[...],"ipv6":[...],"text":[...],"ttl"}
//	{"event":"stopped"}      after Shutdown (register) or when browsing ended
//	{"event":"error","message"} and exit 1
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/grandcat/zeroconf"
)

// What Liqo v0.2 passes (facts §2.2, §2.4): its default ClusterConfig values and the 12 s period
// of its gratuitous answers.
const (
	liqoService       = "_liqo_auth._tcp"
	liqoDomain        = "local."
	gratuitousPeriod  = 12 * time.Second
	usage             = "usage: liqo-zeroconf register <clusterId> <port> <ifaceName> <ttl> | browse <service> <ifaceName>"
	exitCodeOnFailure = 1
)

var printLock sync.Mutex

func emit(msg map[string]interface{}) {
	printLock.Lock()
	defer printLock.Unlock()
	line, err := json.Marshal(msg)
	if err != nil {
		line = []byte(fmt.Sprintf(`{"event":"error","message":%q}`, err.Error()))
	}
	os.Stdout.Write(append(line, '\n'))
}

func fail(format string, args ...interface{}) {
	emit(map[string]interface{}{"event": "error", "message": fmt.Sprintf(format, args...)})
	os.Exit(exitCodeOnFailure)
}

// stopRequested is closed on SIGTERM, SIGINT or a "stop" line on stdin.
func stopRequested() <-chan struct{} {
	done := make(chan struct{})
	var once sync.Once
	stop := func() { once.Do(func() { close(done) }) }
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-signals
		stop()
	}()
	go func() {
		scanner := bufio.NewScanner(os.Stdin)
		for scanner.Scan() {
			if scanner.Text() == "stop" {
				stop()
				return
			}
		}
	}()
	return done
}

func interfaceList(name string) []net.Interface {
	iface, err := net.InterfaceByName(name)
	if err != nil {
		fail("interface %q: %v", name, err)
	}
	return []net.Interface{*iface}
}

func ipStrings(ips []net.IP) []string {
	out := []string{}
	for _, ip := range ips {
		out = append(out, ip.String())
	}
	return out
}

func register(clusterID string, port int, ifaceName string, ttl uint32) {
	ifaces := interfaceList(ifaceName)
	// Liqo v0.2 passes a nil TXT list, so the TXT record carries no strings at all.
	server, err := zeroconf.Register(clusterID, liqoService, liqoDomain, port, nil, ifaces, ttl)
	if err != nil {
		fail("zeroconf.Register: %v", err)
	}
	hostname, _ := os.Hostname()
	emit(map[string]interface{}{
		"event":    "ready",
		"instance": clusterID,
		"service":  liqoService,
		"domain":   liqoDomain,
		"hostname": hostname,
		"port":     port,
		"ttl":      ttl,
	})
	stop := stopRequested()
	ticker := time.NewTicker(gratuitousPeriod)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C:
			server.SendMulticast()
			emit(map[string]interface{}{"event": "gratuitous"})
		case <-stop:
			server.Shutdown()
			emit(map[string]interface{}{"event": "stopped"})
			return
		}
	}
}

func browse(service, ifaceName string) {
	ifaces := interfaceList(ifaceName)
	resolver, err := zeroconf.NewResolver(zeroconf.SelectIPTraffic(zeroconf.IPv4), zeroconf.SelectIfaces(ifaces))
	if err != nil {
		fail("zeroconf.NewResolver: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	entries := make(chan *zeroconf.ServiceEntry)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for entry := range entries {
			text := entry.Text
			if text == nil {
				text = []string{}
			}
			emit(map[string]interface{}{
				"event":    "entry",
				"instance": entry.Instance,
				"service":  entry.Service,
				"domain":   entry.Domain,
				"hostname": entry.HostName,
				"port":     entry.Port,
				"ipv4":     ipStrings(entry.AddrIPv4),
				"ipv6":     ipStrings(entry.AddrIPv6),
				"text":     text,
				"ttl":      entry.TTL,
			})
		}
	}()
	if err := resolver.Browse(ctx, service, liqoDomain, entries); err != nil {
		cancel()
		fail("Browse: %v", err)
	}
	emit(map[string]interface{}{"event": "ready", "service": service, "domain": liqoDomain})
	<-stopRequested()
	cancel() // the library closes the entries channel when its main loop sees the cancellation
	select {
	case <-finished:
	case <-time.After(2 * time.Second):
	}
	emit(map[string]interface{}{"event": "stopped"})
}

func main() {
	args := os.Args[1:]
	switch {
	case len(args) == 5 && args[0] == "register":
		port, err := strconv.Atoi(args[2])
		if err != nil || port < 1 || port > 65535 {
			fail("port %q is not a number in 1-65535", args[2])
		}
		ttl, err := strconv.ParseUint(args[4], 10, 32)
		if err != nil {
			fail("ttl %q is not a whole number of seconds", args[4])
		}
		register(args[1], port, args[3], uint32(ttl))
	case len(args) == 3 && args[0] == "browse":
		browse(args[1], args[2])
	default:
		fail("%s", usage)
	}
}
