package metrics

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Lag exports callstream_source_lag_seconds, computed when scraped from the
// end of the newest window read whole: the lag keeps growing while the
// connector is idle, backfilling, or stuck retrying a failing API, when no
// code of the loop runs to update a plain gauge. Until Set is called for a
// source it exports nothing for it. It is safe for concurrent use.
type Lag struct {
	desc *prometheus.Desc
	now  func() time.Time
	mu   sync.Mutex
	ends map[[2]string]time.Time
}

func newLag(reg prometheus.Registerer) *Lag {
	l := &Lag{
		desc: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", "source_lag_seconds"),
			"Now minus the end of the newest window read whole, computed when scraped.",
			[]string{LabelSource, LabelType}, nil),
		now:  time.Now,
		ends: map[[2]string]time.Time{},
	}
	reg.MustRegister(l)
	return l
}

// Set records end, the end of the newest window of source and typ read whole.
func (l *Lag) Set(source, typ string, end time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ends[[2]string{source, typ}] = end
}

// Delete drops the series of source and typ: a source this process no
// longer runs (its state partition moved to another pod).
func (l *Lag) Delete(source, typ string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.ends, [2]string{source, typ})
}

// Seconds returns the lag of source and typ now, and false if Set was never
// called for them.
func (l *Lag) Seconds(source, typ string) (float64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	end, ok := l.ends[[2]string{source, typ}]
	if !ok {
		return 0, false
	}
	return l.now().Sub(end).Seconds(), true
}

// Describe implements prometheus.Collector.
func (l *Lag) Describe(ch chan<- *prometheus.Desc) { ch <- l.desc }

// Collect implements prometheus.Collector.
func (l *Lag) Collect(ch chan<- prometheus.Metric) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for k, end := range l.ends {
		ch <- prometheus.MustNewConstMetric(l.desc, prometheus.GaugeValue, now.Sub(end).Seconds(), k[0], k[1])
	}
}

// FuncGauge is a gauge whose value a function computes when scraped. The
// function is set once the thing it measures exists; until then the gauge
// exports nothing. It is safe for concurrent use.
type FuncGauge struct {
	desc *prometheus.Desc
	fn   atomic.Pointer[func() float64]
}

func newFuncGauge(reg prometheus.Registerer, name, help string) *FuncGauge {
	g := &FuncGauge{desc: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", name), help, nil, nil)}
	reg.MustRegister(g)
	return g
}

// SetFunc makes fn the gauge's value. fn runs on the scraping goroutine and
// must be safe for concurrent use; nil stops the gauge exporting.
func (g *FuncGauge) SetFunc(fn func() float64) {
	if fn == nil {
		g.fn.Store(nil)
		return
	}
	g.fn.Store(&fn)
}

// Describe implements prometheus.Collector.
func (g *FuncGauge) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

// Collect implements prometheus.Collector.
func (g *FuncGauge) Collect(ch chan<- prometheus.Metric) {
	if fn := g.fn.Load(); fn != nil {
		ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, (*fn)())
	}
}

// FuncGaugeVec is a gauge by source and one more label whose values a
// function of each source computes when scraped. A source exports nothing
// until Set is called for it. It is safe for concurrent use.
type FuncGaugeVec struct {
	desc *prometheus.Desc
	mu   sync.Mutex
	fns  map[string]func() map[string]float64
}

func newFuncGaugeVec(reg prometheus.Registerer, name, help, label string) *FuncGaugeVec {
	g := &FuncGaugeVec{
		desc: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", name), help, []string{LabelSource, label}, nil),
		fns:  map[string]func() map[string]float64{},
	}
	reg.MustRegister(g)
	return g
}

// Set makes fn the values of source, by the other label's value. fn runs
// on the scraping goroutine and must be safe for concurrent use.
func (g *FuncGaugeVec) Set(source string, fn func() map[string]float64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.fns[source] = fn
}

// Delete drops the series of source.
func (g *FuncGaugeVec) Delete(source string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.fns, source)
}

// Values returns the values of source now, nil if Set was never called
// for it.
func (g *FuncGaugeVec) Values(source string) map[string]float64 {
	g.mu.Lock()
	fn := g.fns[source]
	g.mu.Unlock()
	if fn == nil {
		return nil
	}
	return fn()
}

// Describe implements prometheus.Collector.
func (g *FuncGaugeVec) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

// Collect implements prometheus.Collector.
func (g *FuncGaugeVec) Collect(ch chan<- prometheus.Metric) {
	g.mu.Lock()
	fns := make(map[string]func() map[string]float64, len(g.fns))
	for k, v := range g.fns {
		fns[k] = v
	}
	g.mu.Unlock()
	for source, fn := range fns {
		for v, x := range fn() {
			ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, x, source, v)
		}
	}
}
