package doctor

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/callstream/callstream/connector/calllist"
	"github.com/callstream/callstream/connector/schedule"
)

// checkType reports how many calls the configured type lists over the
// horizon. When it lists none, the candidate types are asked; listed is a
// page of calls (of listedType) for api.decode, nil when no type lists any.
func (p *apiProbe) checkType(ctx context.Context, s calllist.Signer, page *calllist.Page) (r Result, listed *calllist.Page, listedType string) {
	typ, horizon := p.cfg.Type, schedule.FormatSpan(p.horizon)
	if page.TotalCount > 0 {
		return pass(APIType, fmt.Sprintf("the API lists %d calls of type %s in the last %s", page.TotalCount, typ, horizon)),
			page, typ
	}
	var found, others []string
	for _, cand := range []string{"chat", "call"} {
		if cand == typ {
			continue
		}
		others = append(others, cand)
		a, err := p.send(ctx, s, cand, p.cfg.PageSize)
		if err != nil || !a.accepted() || a.page.TotalCount == 0 {
			continue
		}
		found = append(found, fmt.Sprintf("%s lists %d", cand, a.page.TotalCount))
		if listed == nil {
			listed, listedType = a.page, cand
		}
	}
	detail := fmt.Sprintf("type %s lists no calls in the last %s", typ, horizon)
	if listed != nil {
		hint := "set --type " + listedType + " (or CALLSTREAM_TYPE, or type: in --config): the request type is the archive's category, not the record's"
		return fail(APIType, detail+"; "+strings.Join(found, ", "), hint), listed, listedType
	}
	return fail(APIType, detail+", nor does "+strings.Join(others, " or "),
		"check that --app-id is the account whose calls you want and that it had calls in that time; "+
			"ask the vendor which request type lists them and set --type; a deeper tier in --tiers looks further back"), nil, ""
}

// checkPageSize compares the records on page 1 with what a full page must
// hold, min(the page size asked or echoed, totalCount): a server may cap
// its pages without saying so, echoing the size asked.
func (p *apiProbe) checkPageSize(page *calllist.Page) Result {
	asked, echoed, rows := p.cfg.PageSize, page.PageSize, len(page.Records)
	hint := func(n int) string {
		return fmt.Sprintf("set --page-size %d (or CALLSTREAM_PAGE_SIZE, or page-size: in --config), the server's cap", n)
	}
	if echoed > 0 && echoed < asked {
		return fail(APIPageSize, fmt.Sprintf("asked for %d records a page, the server grants %d", asked, echoed), hint(echoed))
	}
	if full := min(asked, page.TotalCount); rows < full && rows > 0 {
		said := "says it grants them"
		if echoed == 0 {
			said = "does not say its page size"
		}
		return fail(APIPageSize, fmt.Sprintf("asked for %d records a page, the server %s, but page 1 holds %d of %d: a cap it does not say",
			asked, said, rows, page.TotalCount), hint(rows))
	}
	if echoed == 0 {
		return pass(APIPageSize, fmt.Sprintf("the server does not say its page size; %d records asked, %d of %d sent",
			asked, rows, page.TotalCount))
	}
	return pass(APIPageSize, fmt.Sprintf("the server grants the %d records a page asked for: page 1 holds %d of %d", asked, rows, page.TotalCount))
}

// checkDecode decodes every record of page as the connector would: how
// many decode, the dead letters by reason, the keys it does not know by
// name. It fails only when no record decodes: dead letters go to their
// topic and unknown keys travel in extra, by design.
func checkDecode(page *calllist.Page, typ string) Result {
	var (
		decoded int
		reasons = map[string]int{}
		unknown = map[string]int{}
	)
	for _, raw := range page.Records {
		err := raw.Err
		if err == nil {
			var rec calllist.Record
			rec, err = calllist.DecodeCall(raw.JSON)
			for _, k := range rec.Unknown {
				unknown[k]++
			}
		}
		var de *calllist.DecodeError
		switch {
		case err == nil:
			decoded++
		case errors.As(err, &de):
			reasons[de.Reason]++
		default:
			reasons["other"]++
		}
	}
	n := len(page.Records)
	detail := fmt.Sprintf("page 1 of type %s: %d records, %d decode", typ, n, decoded)
	if len(reasons) > 0 {
		detail += ", dead letters " + countList(reasons)
	}
	if len(unknown) > 0 {
		detail += ", unknown keys (kept in extra) " + countList(unknown)
	}
	if n > 0 && decoded == 0 {
		return fail(APIDecode, detail,
			"no record is in the format callstream reads: send the reasons above and one record, its values masked, to the maintainers of callstream")
	}
	return pass(APIDecode, detail)
}

// countList writes counts as "a 3, b 1", by name.
func countList(m map[string]int) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
