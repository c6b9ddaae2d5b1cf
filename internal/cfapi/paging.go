package cfapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/cloudflare/cloudflare-go/v7/mtls_certificates"
	"github.com/cloudflare/cloudflare-go/v7/option"
	"github.com/cloudflare/cloudflare-go/v7/packages/pagination"
)

// DefaultPerPage is the page size ListAll asks for when ListOptions.PerPage
// is 0; it is also the API's own default for the list endpoint.
const DefaultPerPage = 50

// MaxPages bounds how many pages ListAll and AssociationsAll request. Only
// a server that keeps reporting more pages and keeps returning new items
// reaches it: 1000 pages of 50 is far beyond any real account.
const MaxPages = 1000

// ErrTooManyPages is the cause of the error ListAll and AssociationsAll
// return when they reach MaxPages; test for it with errors.Is.
var ErrTooManyPages = errors.New("too many pages")

// ErrIncompleteListing is the cause of the error ListAll and
// AssociationsAll return when their pages cannot be shown to hold all the
// server holds; test for it with errors.Is.
var ErrIncompleteListing = errors.New("incomplete listing")

// ListOptions narrows and shapes ListAll.
type ListOptions struct {
	// Types keeps only certificates of these types (custom,
	// gateway_managed, access_managed); empty means every type. The server
	// checks the values.
	Types []string
	// PerPage is the page size to ask for; 0 means DefaultPerPage.
	PerPage int
}

// ListAll returns every certificate of an account, in the order the API
// lists them, reading page after page. The endpoint documents no paging, so
// result_info.total_pages is followed only while the answers make sense: an
// empty page, or one holding only certificates already read (a server that
// ignores `page`), ends the read early, and a response without result_info
// is one page. A certificate that appears on more than one page is returned
// once. A read that cannot be shown complete (collectPages says when) fails
// with ErrIncompleteListing; past MaxPages it fails with ErrTooManyPages.
func (c *Client) ListAll(ctx context.Context, accountID string, opts ListOptions) ([]Certificate, error) {
	fetch, fresh, err := c.certificateFetcher(accountID, opts)
	if err != nil {
		return nil, err
	}
	return collectPages(ctx, "list", "certificates", MaxPages, fetch, fresh)
}

// certificateFetcher returns the page fetcher of an account's listing, and
// the filter that keeps each certificate once.
func (c *Client) certificateFetcher(accountID string, opts ListOptions) (pageFetcher[Certificate], func(page, previous []Certificate) []Certificate, error) {
	perPage := opts.PerPage
	if perPage == 0 {
		perPage = DefaultPerPage
	}
	if perPage < 0 {
		return nil, nil, &APIError{Operation: "list", Message: fmt.Sprintf("per_page must be positive, got %d", perPage)}
	}
	var types []string
	for _, t := range opts.Types {
		if t = strings.TrimSpace(t); t != "" {
			types = append(types, t)
		}
	}
	fetch := func(ctx context.Context, page int) ([]Certificate, *resultInfo, error) {
		var params mtls_certificates.MTLSCertificateListParams
		params.AccountID.Value, params.AccountID.Present = accountID, true
		// The SDK would send params.Type as a repeated parameter; the API
		// documents one comma-separated value, so the query is set directly.
		reqOpts := []option.RequestOption{
			option.WithQuery("page", strconv.Itoa(page)),
			option.WithQuery("per_page", strconv.Itoa(perPage)),
		}
		if len(types) > 0 {
			reqOpts = append(reqOpts, option.WithQuery("type", strings.Join(types, ",")))
		}
		ctx, call := startCall(ctx)
		var answered pagination.SinglePage[mtls_certificates.MTLSCertificate]
		_, err := c.certs.List(ctx, params, append(reqOpts, option.WithResponseBodyInto(&answered))...)
		ans := &call.answer
		if err := ans.list("list", "", "certificates", pageFields(&answered), err); err != nil {
			return nil, nil, err
		}
		info, err := ans.resultInfo("list", answered.JSON.ExtraFields["result_info"])
		if err != nil {
			return nil, nil, err
		}
		out := make([]Certificate, 0, len(answered.Result))
		for i := range answered.Result {
			cert, reason := fromSDK(fmt.Sprintf("result[%d]", i), &answered.Result[i])
			if reason != "" {
				return nil, nil, ans.unreadable("list", "", reason, nil)
			}
			out = append(out, *cert)
		}
		return out, info, nil
	}
	// A certificate id is unique in an account, so an id seen before is the
	// same certificate served again, never a second one.
	seen := map[string]struct{}{}
	unseen := func(page, _ []Certificate) []Certificate {
		var fresh []Certificate
		for _, cert := range page {
			if _, dup := seen[cert.ID]; dup {
				continue
			}
			seen[cert.ID] = struct{}{}
			fresh = append(fresh, cert)
		}
		return fresh
	}
	return fetch, unseen, nil
}

// AssociationsAll returns every service that uses a certificate, reading
// page after page like ListAll.
//
// Only `page` is sent, not `per_page`: the endpoint documents neither, a
// certificate is used by a handful of services (the server's default of 20
// per page already holds them), and a page size the real API does not
// accept would turn a working read into an error.
//
// An association has no id, and the API does not promise that two entries
// differ, so entries are never merged. A page equal to the one before it is
// taken as the server ignoring `page`, and ends the read.
func (c *Client) AssociationsAll(ctx context.Context, accountID, id string) ([]Association, error) {
	fetch := func(ctx context.Context, page int) ([]Association, *resultInfo, error) {
		var params mtls_certificates.AssociationGetParams
		params.AccountID.Value, params.AccountID.Present = accountID, true
		ctx, call := startCall(ctx)
		var answered pagination.SinglePage[mtls_certificates.CertificateAsssociation]
		_, err := c.associations.Get(ctx, id, params, option.WithQuery("page", strconv.Itoa(page)), option.WithResponseBodyInto(&answered))
		ans := &call.answer
		subject := "certificate " + id
		if err := ans.list("list associations", subject, "associations", pageFields(&answered), err); err != nil {
			return nil, nil, err
		}
		info, err := ans.resultInfo("list associations", answered.JSON.ExtraFields["result_info"])
		if err != nil {
			return nil, nil, err
		}
		out := make([]Association, 0, len(answered.Result))
		for i := range answered.Result {
			a, reason := association(fmt.Sprintf("result[%d]", i), &answered.Result[i])
			if reason != "" {
				return nil, nil, ans.unreadable("list associations", subject, reason, nil)
			}
			out = append(out, a)
		}
		return out, info, nil
	}
	unlikePrevious := func(page, previous []Association) []Association {
		if slices.Equal(page, previous) {
			return nil
		}
		return page
	}
	return collectPages(ctx, "list associations", "associations", MaxPages, fetch, unlikePrevious)
}

// resultInfo is the paging part of a list envelope, which the SDK's page
// type keeps only as the raw JSON of an extra field.
type resultInfo struct {
	Page       int `json:"page"`
	PerPage    int `json:"per_page"`
	Count      int `json:"count"`
	TotalCount int `json:"total_count"`
	TotalPages int `json:"total_pages"`
}

// pageFields are the envelope fields of a page the SDK decoded.
func pageFields[T any](page *pagination.SinglePage[T]) envelopeFields {
	extra := page.JSON.ExtraFields
	return envelopeFields{success: extra["success"], errors: extra["errors"], result: page.JSON.Result}
}

// resultInfo decodes the result_info field, the one part of a list answer
// the SDK leaves undecoded; nil when the answer has none.
func (a *answer) resultInfo(operation string, f field) (*resultInfo, error) {
	info, err := decodeResultInfo(f.Raw())
	if err != nil {
		return nil, a.unreadable(operation, "", "its result_info does not fit ("+err.Error()+")", err)
	}
	return info, nil
}

func decodeResultInfo(raw string) (*resultInfo, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	var info *resultInfo
	if err := json.Unmarshal([]byte(raw), &info); err != nil {
		return nil, err
	}
	return info, nil
}

// pageFetcher requests one page (counting from 1) and returns its items and
// its result_info, nil when the response had none.
type pageFetcher[T any] func(ctx context.Context, page int) ([]T, *resultInfo, error)

// collectPages reads pages 1, 2, ... and returns the items fresh keeps of
// each; fresh gets the page and the page before it (nil for the first).
// Reading stops at whichever comes first:
//   - a page with no items (total_pages claimed more than there were);
//   - a page of which fresh keeps nothing (the server ignores `page` and
//     serves the same items again);
//   - the page result_info.total_pages names, or the first page when the
//     response has no result_info (the API treated as unpaged).
//
// What was read is returned only when it is complete (see
// pager.complete); otherwise the read fails with ErrIncompleteListing, so
// that no caller answers from part of a list.
//
// A short page does not end the read: the server may cap per_page below
// what was asked, and total_pages is the better witness. When the server
// keeps reporting more pages and serving new items beyond limit pages, the
// read fails with ErrTooManyPages rather than run on.
func collectPages[T any](ctx context.Context, operation, noun string, limit int, fetch pageFetcher[T], fresh func(page, previous []T) []T) ([]T, error) {
	p := &pager[T]{operation: operation, limit: limit, fetch: fetch, fresh: fresh}
	out := []T{}
	for !p.done() {
		kept, err := p.next(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, kept...)
	}
	if !p.complete() {
		return nil, p.incomplete(noun)
	}
	return out, nil
}

// pager reads a list one page at a time, by collectPages' rules.
type pager[T any] struct {
	operation string
	limit     int
	fetch     pageFetcher[T]
	fresh     func(page, previous []T) []T

	read     int // pages read
	items    int // items kept
	previous []T
	last     *resultInfo
	stop     string
	repeated bool // the read ended on a page of items already read
}

func (p *pager[T]) done() bool { return p.stop != "" }

// complete reports, once done, whether what was read can be taken for the
// whole list: the server's total_count vouches for it, or, when the server
// gives none, the read ended where its pages said and not on a repeated
// page. An answer without result_info is a whole, unpaged list.
func (p *pager[T]) complete() bool {
	switch {
	case p.last == nil:
		return true
	case p.last.TotalCount > 0:
		return p.items >= p.last.TotalCount
	}
	return !p.repeated
}

// incomplete is the error of a read that complete refuses.
func (p *pager[T]) incomplete(noun string) error {
	got := fmt.Sprintf("it ended after page %d with %d %s, but the API reported %d (result_info.total_count)",
		p.read, p.items, noun, p.last.TotalCount)
	if p.last.TotalCount <= 0 {
		got = fmt.Sprintf("page %d repeated %s already read, and the API reported no total_count to show that the %d read were all",
			p.read, noun, p.items)
	}
	return &APIError{
		Operation: p.operation,
		Message: "the listing is incomplete: " + got + ". A proxy, or a server that ignores the `page` parameter, " +
			"can cut a listing short; no answer is made from part of it",
		cause: ErrIncompleteListing,
	}
}

// next reads the next page and returns the items fresh keeps of it.
func (p *pager[T]) next(ctx context.Context) ([]T, error) {
	if p.done() {
		return nil, nil
	}
	if p.read >= p.limit {
		return nil, tooManyPages(p.operation, p.limit, p.items, p.last)
	}
	items, info, err := p.fetch(ctx, p.read+1)
	if err != nil {
		return nil, err
	}
	p.read++
	if info != nil {
		p.last = info
	}
	kept := p.fresh(items, p.previous)
	p.items += len(kept)
	p.previous = items
	switch {
	case len(items) == 0:
		p.stop = "empty page"
	case len(kept) == 0:
		p.stop = "page repeated items already read; the server seems to ignore the page parameter"
		p.repeated = true
	case info == nil:
		p.stop = "no result_info; treated as a single page"
	case p.read >= info.TotalPages:
		p.stop = "last page according to result_info.total_pages"
	}
	if p.done() {
		p.logEnd(ctx)
	}
	return kept, nil
}

func (p *pager[T]) logEnd(ctx context.Context) {
	fields := map[string]any{
		"operation":   p.operation,
		"pages_read":  p.read,
		"items":       p.items,
		"stop_reason": p.stop,
	}
	if !p.complete() {
		fields["reported_total_count"] = p.last.TotalCount
		tflog.Warn(ctx, "A Cloudflare API list ended before it could be shown complete", fields)
		return
	}
	tflog.Debug(ctx, "Read every page of a Cloudflare API list", fields)
}

// CertificatePages reads an account's certificates a page at a time, by
// ListAll's rules, for a caller that decides after a page whether the rest
// is worth reading. It is not safe for concurrent use.
type CertificatePages struct {
	p *pager[Certificate]
}

// CertificatePages starts a page-at-a-time read of an account's
// certificates; nothing is requested until Next.
func (c *Client) CertificatePages(accountID string, opts ListOptions) (*CertificatePages, error) {
	fetch, fresh, err := c.certificateFetcher(accountID, opts)
	if err != nil {
		return nil, err
	}
	return &CertificatePages{p: &pager[Certificate]{operation: "list", limit: MaxPages, fetch: fetch, fresh: fresh}}, nil
}

// Next reads the next page and returns the certificates on it not seen
// before; nil once Done.
func (c *CertificatePages) Next(ctx context.Context) ([]Certificate, error) { return c.p.next(ctx) }

// Done reports whether every page has been read.
func (c *CertificatePages) Done() bool { return c.p.done() }

// PagesLeft is how many pages the last answer's result_info says remain
// to be read; 0 once Done, and when the answers carry no result_info.
func (c *CertificatePages) PagesLeft() int {
	if c.p.done() || c.p.last == nil {
		return 0
	}
	return max(c.p.last.TotalPages-c.p.read, 0)
}

// Complete reports, once Done, whether the server's total_count agrees
// with what was read.
func (c *CertificatePages) Complete() bool { return c.p.complete() }

func tooManyPages(operation string, limit, items int, last *resultInfo) error {
	reported := "more"
	if last != nil {
		reported = strconv.Itoa(last.TotalPages)
	}
	return &APIError{
		Operation: operation,
		Message: fmt.Sprintf("gave up after %d pages (%d items): the API still reported %s pages and kept returning new items; "+
			"narrow the request (for example by certificate type) or ask for larger pages", limit, items, reported),
		cause: ErrTooManyPages,
	}
}
