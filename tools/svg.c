/*
 * svg.c - small hand-written SVG line charts for --plot: panels side by
 * side, each with axes, ticks at 1-2-5 steps, labels, a legend right of
 * the plot, and dashed series for reference lines.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "cli.h"

#define PANEL_W 620
#define PANEL_H 340
#define ML 64 /* margins: left, right, top, bottom */
#define MR 164 /* room for the legend */
#define MT 36
#define MB 48

static const char *colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
			       "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};

struct range {
	double lo, hi, step;
};

/* A 1-2-5 tick step giving about five ticks, and the range widened to it. */
static struct range nice_range(double lo, double hi)
{
	struct range r;
	double raw, mag, f;

	if (!(hi > lo)) {
		double pad = fabs(lo) > 0 ? fabs(lo) * 0.05 : 0.5;

		lo -= pad;
		hi += pad;
	}
	raw = (hi - lo) / 5;
	mag = pow(10, floor(log10(raw)));
	f = raw / mag;
	r.step = (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
	r.lo = floor(lo / r.step) * r.step;
	r.hi = ceil(hi / r.step) * r.step;
	return r;
}

static void data_range(const struct svg_panel *p, int axis, double *lo,
		       double *hi)
{
	*lo = INFINITY;
	*hi = -INFINITY;
	for (size_t s = 0; s < p->n_series; s++) {
		const double *v = axis ? p->series[s].y : p->series[s].x;

		for (size_t i = 0; i < p->series[s].n; i++) {
			if (!isfinite(v[i]))
				continue;
			*lo = fmin(*lo, v[i]);
			*hi = fmax(*hi, v[i]);
		}
	}
	if (!isfinite(*lo))
		*lo = 0, *hi = 1;
}

static void text(FILE *f, double x, double y, const char *anchor,
		 const char *extra, const char *s)
{
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"%s>", x, y,
		anchor, extra ? extra : "");
	for (; *s; s++) {
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else
			fputc(*s, f);
	}
	fputs("</text>\n", f);
}

static void axes(FILE *f, double ox, struct range xr, struct range yr,
		 const struct svg_panel *p)
{
	double w = PANEL_W - ML - MR, h = PANEL_H - MT - MB;
	char buf[32];

	fprintf(f, "<rect x=\"%g\" y=\"%d\" width=\"%g\" height=\"%g\" "
		"fill=\"none\" stroke=\"#333\"/>\n", ox + ML, MT, w, h);
	for (double v = yr.lo; v <= yr.hi + yr.step * 1e-6; v += yr.step) {
		double y = MT + h - (v - yr.lo) / (yr.hi - yr.lo) * h;

		fprintf(f, "<line x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\" "
			"stroke=\"#ddd\"/>\n", ox + ML, y, ox + ML + w, y);
		snprintf(buf, sizeof(buf), "%g", fabs(v) < 1e-12 ? 0 : v);
		text(f, ox + ML - 6, y + 4, "end", NULL, buf);
	}
	for (double v = xr.lo; v <= xr.hi + xr.step * 1e-6; v += xr.step) {
		double x = ox + ML + (v - xr.lo) / (xr.hi - xr.lo) * w;

		fprintf(f, "<line x1=\"%.1f\" y1=\"%g\" x2=\"%.1f\" y2=\"%g\" "
			"stroke=\"#333\"/>\n", x, MT + h, x, MT + h + 5);
		snprintf(buf, sizeof(buf), "%g", fabs(v) < 1e-12 ? 0 : v);
		text(f, x, MT + h + 18, "middle", NULL, buf);
	}
	text(f, ox + PANEL_W / 2.0, 22, "middle", " font-weight=\"bold\"",
	     p->title ? p->title : "");
	text(f, ox + ML + w / 2, PANEL_H - 10, "middle", NULL,
	     p->xlabel ? p->xlabel : "");
	fprintf(f, "<g transform=\"translate(%g,%g) rotate(-90)\">\n",
		ox + 16, MT + h / 2);
	text(f, 0, 0, "middle", NULL, p->ylabel ? p->ylabel : "");
	fputs("</g>\n", f);
}

static void series(FILE *f, double ox, struct range xr, struct range yr,
		   const struct svg_series *s, const char *color)
{
	double w = PANEL_W - ML - MR, h = PANEL_H - MT - MB;
	int pen = 0;

	fprintf(f, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s "
		"d=\"", color, s->dashed ? " stroke-dasharray=\"6,4\"" : "");
	for (size_t i = 0; i < s->n; i++) {
		double x, y;

		if (!isfinite(s->x[i]) || !isfinite(s->y[i])) {
			pen = 0;
			continue;
		}
		x = ox + ML + (s->x[i] - xr.lo) / (xr.hi - xr.lo) * w;
		y = MT + h - (s->y[i] - yr.lo) / (yr.hi - yr.lo) * h;
		fprintf(f, "%c%.1f %.1f ", pen ? 'L' : 'M', x, y);
		pen = 1;
	}
	fputs("\"/>\n", f);
	if (s->dashed || s->n > 30)
		return;
	for (size_t i = 0; i < s->n; i++) {
		if (!isfinite(s->x[i]) || !isfinite(s->y[i]))
			continue;
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" "
			"fill=\"%s\"/>\n",
			ox + ML + (s->x[i] - xr.lo) / (xr.hi - xr.lo) * w,
			MT + h - (s->y[i] - yr.lo) / (yr.hi - yr.lo) * h,
			color);
	}
}

static void legend(FILE *f, double ox, const struct svg_panel *p)
{
	double x = ox + PANEL_W - MR + 14, y = MT + 8;

	fprintf(f, "<rect x=\"%g\" y=\"%g\" width=\"144\" height=\"%zu\" "
		"fill=\"white\" fill-opacity=\"0.85\" stroke=\"#bbb\"/>\n",
		x - 4, y - 4, 16 * p->n_series + 6);
	for (size_t s = 0; s < p->n_series; s++) {
		const char *color = colors[s % 8];
		double ly = y + 16 * (double)s + 6;

		fprintf(f, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" "
			"stroke=\"%s\" stroke-width=\"2\"%s/>\n", x, ly, x + 22,
			ly, color,
			p->series[s].dashed ? " stroke-dasharray=\"6,4\"" : "");
		text(f, x + 28, ly + 4, "start", NULL,
		     p->series[s].name ? p->series[s].name : "");
	}
}

int svg_write(const char *path, const struct svg_panel *panels,
	      size_t n_panels)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return cli_error("%s: %s", path, strerror(errno));
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%zu\" "
		"height=\"%d\" viewBox=\"0 0 %zu %d\" "
		"font-family=\"sans-serif\" font-size=\"12\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
		PANEL_W * n_panels, PANEL_H, PANEL_W * n_panels, PANEL_H);
	for (size_t k = 0; k < n_panels; k++) {
		const struct svg_panel *p = &panels[k];
		double ox = (double)(PANEL_W * k), lo, hi;
		struct range xr, yr;

		data_range(p, 0, &lo, &hi);
		xr = nice_range(lo, hi);
		data_range(p, 1, &lo, &hi);
		/* a margin, so that no line runs along the frame */
		yr = nice_range(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo));
		axes(f, ox, xr, yr, p);
		for (size_t s = 0; s < p->n_series; s++)
			series(f, ox, xr, yr, &p->series[s], colors[s % 8]);
		legend(f, ox, p);
	}
	fputs("</svg>\n", f);
	if (fclose(f) != 0)
		return cli_error("%s: %s", path, strerror(errno));
	return 0;
}

/* Learning curves: training loss, and the validation metric if any. */
int cli_plot_curves(const char *path, const struct cli_progress *p,
		    size_t n, int metric)
{
	struct svg_series s[2 * 4];
	struct svg_panel panels[2];
	static double epochs[100000];
	size_t ne = 0, n_valid = 0;

	for (size_t k = 0; k < n; k++)
		if (p[k].n_epochs > ne)
			ne = p[k].n_epochs;
	if (ne > sizeof(epochs) / sizeof(epochs[0]))
		ne = sizeof(epochs) / sizeof(epochs[0]);
	for (size_t i = 0; i < ne; i++)
		epochs[i] = (double)(i + 1);
	for (size_t k = 0; k < n && k < 4; k++) {
		size_t m = p[k].n_epochs < ne ? p[k].n_epochs : ne;

		s[k] = (struct svg_series){p[k].label, epochs, p[k].loss, m, 0};
		s[4 + k] = (struct svg_series){p[k].label, epochs, p[k].valid,
					       m, 0};
		for (size_t i = 0; i < m; i++)
			n_valid += isfinite(p[k].valid[i]);
	}
	panels[0] = (struct svg_panel){"Training loss", "epoch", "loss", s,
				       n < 4 ? n : 4};
	panels[1] = (struct svg_panel){"Validation", "epoch",
				       cli_metric_name(metric), s + 4,
				       n < 4 ? n : 4};
	return svg_write(path, panels, n_valid ? 2 : 1);
}
