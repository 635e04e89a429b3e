// Command promparse reads the Prometheus text exposition format on stdin with Prometheus's own
// parser (github.com/prometheus/common/expfmt) and prints, as JSON, every sample's labels by
// metric family: the tests check leakwatch's /metrics against it. A parse error exits 1.
//
// It is a module of its own so the testdata programs do not depend on Prometheus.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

type sample struct {
	Labels map[string]string `json:"labels"`
	Value  float64           `json:"value"`
}

func main() {
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out := map[string][]sample{}
	for name, f := range fams {
		out[name] = []sample{}
		for _, m := range f.Metric {
			s := sample{Labels: map[string]string{}}
			for _, lp := range m.Label {
				s.Labels[lp.GetName()] = lp.GetValue()
			}
			switch {
			case m.Gauge != nil:
				s.Value = m.Gauge.GetValue()
			case m.Counter != nil:
				s.Value = m.Counter.GetValue()
			case m.Untyped != nil:
				s.Value = m.Untyped.GetValue()
			}
			out[name] = append(out[name], s)
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		os.Exit(1)
	}
}
