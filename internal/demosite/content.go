package demosite

import (
	"fmt"
	"strings"
	"time"
)

// This file writes the pages: the shop, the journal (blog), the guides in
// four charsets, help, about, contact, and the broken parts.

// category is one shop category.
type category struct {
	slug, name, prefix string
	base               int      // price of the cheapest product, in euros
	names              []string // 20 product names
	french             bool     // windows-1252, French labels and prices
}

var adjectives = []string{"Harbour", "Alder", "Juniper", "Cobalt", "Meadow", "Granite", "Saffron", "Willow", "Ember", "Fjord"}

// pairs crosses the adjectives with two nouns: 20 names.
func pairs(a, b string) []string {
	var out []string
	for _, adj := range adjectives {
		out = append(out, adj+" "+a, adj+" "+b)
	}
	return out
}

func origins() []string {
	var out []string
	for _, o := range []string{"Ethiopia Yirgacheffe", "Kenya AA Nyeri", "Colombia Huila", "Guatemala Antigua", "Brazil Cerrado",
		"Sumatra Mandheling", "Costa Rica Tarrazú", "Rwanda Bourbon", "Panama Geisha", "Peru Cajamarca"} {
		out = append(out, o+" Whole Bean", o+" Espresso Roast")
	}
	return out
}

var categories = []category{
	{slug: "kettles", name: "Kettles", prefix: "KET", base: 39, names: pairs("Enamel Kettle", "Gooseneck Kettle")},
	{slug: "mugs", name: "Mugs & Cups", prefix: "MUG", base: 12, names: pairs("Stoneware Mug", "Porcelain Cup")},
	{slug: "tea", name: "Loose-leaf Tea", prefix: "TEA", base: 7, names: []string{
		"Jade Sencha", "Gyokuro Asahi", "Darjeeling First Flush", "Assam Breakfast", "Iron Goddess Oolong",
		"Silver Needle", "Genmaicha", "Earl Grey Crème", "Lapsang Souchong", "Moroccan Mint",
		"Rooibos Vanilla", "Keemun Mao Feng", "Hojicha", "Dragon Well", "Jasmine Pearls",
		"Ceylon Orange Pekoe", "Kukicha", "Pu-erh 2015", "Chai Masala", "Sobacha"}},
	{slug: "coffee", name: "Coffee", prefix: "COF", base: 11, names: origins()},
	{slug: "grinders", name: "Grinders", prefix: "GRI", base: 45, names: pairs("Hand Grinder", "Burr Grinder")},
	// Served in windows-1252: "€" (0x80), "Œ" (0x8C) and "–" (0x96) are
	// not in ISO-8859-1, so a decoder that treats the label loosely shows
	// them wrong.
	{slug: "epicerie", name: "Épicerie fine", prefix: "EPI", base: 4, french: true, names: []string{
		"Confiture de Reine-Claude", "Miel de châtaignier", "Caramel au beurre salé", "Pâte à tartiner noisette",
		"Sablés bretons", "Calissons d'Aix", "Nougat de Montélimar", "Madeleines de Commercy",
		"Crème de marrons", "Biscuits « Petit-Beurre »", "Gelée de coing", "Pain d'épices",
		"Tuiles aux amandes", "Financiers", "Canelés", "Chocolat noir 70 %",
		"Pralines roses", "Marrons glacés", "Bêtises de Cambrai", "Œufs en chocolat – coffret"}},
}

// productPath is the path of product i of c.
func productPath(c category, i int) string { return "/shop/" + c.slug + "/" + slug(c.names[i]) }

// product returns the fields of product i of c.
func product(c category, i int) *Product {
	euros, cents := c.base+(i*7)%23, []int{90, 50, 0, 95}[i%4]
	price := fmt.Sprintf("€%d.%02d", euros, cents)
	if c.french {
		price = fmt.Sprintf("%d,%02d €", euros, cents)
	}
	return &Product{Name: c.names[i], Price: price, SKU: fmt.Sprintf("%s-%03d", c.prefix, i+1), Category: c.slug}
}

// missingImage is the one product whose picture was never uploaded.
const missingImage = "/shop/mugs/ember-stoneware-mug"

// Paths of the broken and special parts.
const (
	pathSlow      = "/reports/2025"
	pathPromo     = "/promo"
	pathLoop      = "/members"
	pathGone      = "/shop/discontinued/retro-kettle"
	pathDeleted   = "/blog/2019/01/summer-menu" // never served: 404
	pathError     = "/shop/reviews"
	pathDraft     = "/blog/drafts/spring-menu"
	offsiteStatus = "https://status.teacup.invalid/"
	offsiteSocial = "https://social.teacup.invalid/@teacupco"
	offsiteRoast  = "http://roastery-partner.invalid/"
)

// addContent adds every page and asset.
func addContent(s *site) {
	addShop(s)
	addJournal(s)
	addGuides(s)
	addPages(s)
	addAssets(s)
}

func addShop(s *site) {
	s.add(render(spec{path: "/shop/", title: "Shop", body: func(p *builder) {
		p.w("<h1>Shop</h1>\n<ul class=\"categories\">")
		for _, c := range categories {
			p.li("/shop/"+c.slug+"/", c.name)
		}
		p.w("</ul>\n<p>")
		p.a(pathError, "Read what our customers say")
		p.w("</p>")
	}}))
	for _, c := range categories {
		c := c
		cs, lang, declare := "utf-8", "en", declareBoth
		if c.french {
			cs, lang = "windows-1252", "fr"
		}
		s.add(render(spec{path: "/shop/" + c.slug + "/", title: c.name, charset: cs, lang: lang, declare: declare, body: func(p *builder) {
			p.f("<h1>%s</h1>\n<ul class=\"products\">", c.name)
			for i := range c.names {
				pr := product(c, i)
				p.w("<li>")
				p.a(productPath(c, i), pr.Name)
				p.f(` <span class="price">%s</span></li>`, pr.Price)
			}
			if c.slug == "kettles" {
				p.w("<li>")
				p.a(pathGone, "Retro Kettle")
				p.w(" (discontinued)</li>")
			}
			p.w("</ul>")
		}}))
		for i := range c.names {
			addProduct(s, c, i, cs, lang)
		}
	}
	s.add(render(spec{path: "/shop/sale", title: "Winter sale", body: func(p *builder) {
		p.w("<h1>Winter sale</h1>\n<p>Twenty per cent off one product of every category until the end of February.</p>\n<ul>")
		for _, c := range categories {
			if !c.french {
				p.li(productPath(c, 0), c.names[0])
			}
		}
		p.w("</ul>")
	}}))
	s.add(render(spec{path: pathGone, title: "Retro Kettle is no longer available", status: 410, body: func(p *builder) {
		p.w("<h1>Retro Kettle</h1>\n<p>This product has been discontinued. Have a look at our ")
		p.a("/shop/kettles/", "other kettles")
		p.w(".</p>")
	}}))
	s.add(render(spec{path: pathError, title: "Something went wrong", status: 500,
		header: map[string]string{"Retry-After": "1"}, body: func(p *builder) {
			p.w("<h1>Something went wrong</h1>\n<p>The reviews service is not answering. Please try again later.</p>")
		}}))
}

func addProduct(s *site, c category, i int, cs, lang string) {
	pr := product(c, i)
	path := productPath(c, i)
	inStock, related, label := "In stock", "You may also like", "Products"
	if i%7 == 6 {
		inStock = "Sold out"
	}
	if c.french {
		inStock, related, label = "En stock", "Vous aimerez aussi", "Produits"
		if i%7 == 6 {
			inStock = "Épuisé"
		}
	}
	r := render(spec{path: path, title: pr.Name + " – " + c.name, charset: cs, lang: lang, body: func(p *builder) {
		p.w(`<nav class="crumbs">`)
		p.a("/shop/", "Shop")
		p.w(" &rsaquo; ")
		p.a("/shop/"+c.slug+"/", c.name)
		p.w("</nav>\n")
		p.w(`<article class="product" itemscope itemtype="https://schema.org/Product">` + "\n")
		p.f(`<h1 class="product-name" itemprop="name">%s</h1>`+"\n", pr.Name)
		p.img("/img/products/"+c.slug+"/"+slug(pr.Name)+".svg", pr.Name, "main")
		p.f("\n"+`<p class="price" itemprop="price">%s</p>`+"\n", pr.Price)
		p.f(`<p class="sku">%s</p>`+"\n"+`<p class="stock">%s</p>`+"\n", pr.SKU, inStock)
		p.f(`<div class="description"><p>%s</p></div>`+"\n", description(c, i))
		p.f(`<h2 id="related">%s</h2>`+"\n<ul>", related)
		for k := 1; k <= 3; k++ {
			j := (i + k) % len(c.names)
			p.li(productPath(c, j), c.names[j])
		}
		p.w("</ul>\n</article>\n<p>")
		p.a("#related", label)
		p.w("</p>")
	}})
	r.Product = pr
	s.add(r)
	if path != missingImage {
		s.add(&resource{Page: Page{Path: "/img/products/" + c.slug + "/" + slug(pr.Name) + ".svg"}, status: 200,
			contentType: "image/svg+xml", body: svg(pr.Name, i)})
	}
}

// description is a product's sentence.
func description(c category, i int) string {
	if c.french {
		return fmt.Sprintf("%s, préparé par un artisan de la région. Idéal avec un thé noir ou un café filtre.", c.names[i])
	}
	uses := []string{"every morning", "slow weekends", "the office", "long winter evenings", "a picnic"}
	return fmt.Sprintf("The %s is a favourite of our customers for %s. Made in small batches; each one is a little different.",
		c.names[i], uses[i%len(uses)])
}

// svg is a small generated picture.
func svg(label string, i int) []byte {
	colors := []string{"#c2593f", "#3f7cc2", "#5a9e4b", "#d9a441", "#7d4fa0"}
	return []byte(fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240" viewBox="0 0 320 240">`+
		`<rect width="320" height="240" fill="%s"/><text x="160" y="125" font-size="18" text-anchor="middle" fill="#fff">%s</text></svg>`+"\n",
		colors[i%len(colors)], strings.NewReplacer("&", "&amp;", "<", "&lt;").Replace(label)))
}

// article is one journal post.
type article struct {
	title, path string
	date        time.Time
	topic       int
}

var (
	articlePatterns = []string{"A beginner's guide to %s", "%s: five mistakes to avoid", "Why %s is worth the effort",
		"The short history of %s", "%s, step by step", "What we learned about %s this year"}
	articleTopics = []string{"pour-over coffee", "oolong tea", "descaling a kettle", "cold brew", "matcha",
		"espresso grind size", "water hardness", "latte art", "storing tea", "burr grinders"}
	// topicCategory is the shop category each topic links to.
	topicCategory = []int{3, 2, 0, 3, 2, 4, 0, 1, 2, 4}
)

const articlesPerPage = 10

func articles() []article {
	var out []article
	start := time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)
	for i := 0; i < len(articlePatterns)*len(articleTopics); i++ {
		t := fmt.Sprintf(articlePatterns[i/len(articleTopics)], articleTopics[i%len(articleTopics)])
		t = strings.ToUpper(t[:1]) + t[1:]
		d := start.AddDate(0, 0, 5*i)
		out = append(out, article{title: t, date: d, topic: i % len(articleTopics),
			path: fmt.Sprintf("/blog/%d/%02d/%s", d.Year(), d.Month(), slug(t))})
	}
	return out
}

func journalPage(n int) string {
	if n == 1 {
		return "/blog/"
	}
	return fmt.Sprintf("/blog/page/%d", n)
}

func addJournal(s *site) {
	arts := articles()
	pages := (len(arts) + articlesPerPage - 1) / articlesPerPage
	for n := 1; n <= pages; n++ {
		n := n
		title := "Journal"
		if n > 1 {
			title = fmt.Sprintf("Journal – page %d", n)
		}
		s.add(render(spec{path: journalPage(n), title: title, body: func(p *builder) {
			p.w("<h1>Journal</h1>\n<ul class=\"posts\">")
			for k := 0; k < articlesPerPage; k++ {
				i := len(arts) - 1 - (n-1)*articlesPerPage - k
				if i < 0 {
					break
				}
				p.f(`<li><time datetime="%s">%s</time> `, arts[i].date.Format(time.DateOnly), arts[i].date.Format("2 January 2006"))
				p.a(arts[i].path, arts[i].title)
				p.w("</li>")
			}
			p.w("</ul>\n<nav class=\"pager\">")
			if n > 1 {
				p.a(journalPage(n-1), "Newer posts")
				p.w(" ")
			}
			for m := 1; m <= pages; m++ {
				p.a(journalPage(m), fmt.Sprint(m))
				p.w(" ")
			}
			if n < pages {
				p.a(journalPage(n+1), "Older posts")
			}
			p.w("</nav>")
			if n == 1 {
				p.w("\n<p>Coming soon: ")
				p.a(pathDraft, "our spring menu")
				p.w(".</p>")
			}
		}}))
	}
	for i := range arts {
		addArticle(s, arts, i)
	}
	s.add(render(spec{path: pathDraft, title: "Spring menu (draft)", noindex: true, body: func(p *builder) {
		p.w("<h1>Spring menu</h1>\n<p>Draft: not for search engines yet. First flush teas arrive in April; see the ")
		p.a("/shop/tea/", "tea shelf")
		p.w(".</p>")
	}}))
}

func addArticle(s *site, arts []article, i int) {
	a := arts[i]
	c := categories[topicCategory[a.topic]]
	s.add(render(spec{path: a.path, title: a.title, body: func(p *builder) {
		p.w(`<article>` + "\n")
		p.f(`<h1 id="top">%s</h1>`+"\n", a.title)
		p.f(`<p class="date"><time datetime="%s">%s</time></p>`+"\n", a.date.Format(time.DateOnly), a.date.Format("2 January 2006"))
		p.w(`<nav class="toc"><ol>`)
		p.li("#intro", "Introduction")
		p.li("#steps", "Step by step")
		p.li("#tips", "Tips")
		p.w("</ol></nav>\n")
		p.f("<h2 id=\"intro\">Introduction</h2>\n<p>Everyone asks us about %s. Here is what we tell them in the shop.</p>\n", articleTopics[a.topic])
		if i == 2 {
			p.img("/img/blog/missing-chart.png", "Chart: temperature against time", "")
			p.w("\n")
		}
		p.w("<h2 id=\"steps\">Step by step</h2>\n<ol><li>Start with fresh water.</li><li>Weigh, do not guess.</li><li>Taste, adjust, repeat.</li></ol>\n")
		p.w("<h2 id=\"tips\">Tips</h2>\n<p>We use the ")
		p.a(productPath(c, (i*3)%20), c.names[(i*3)%20])
		p.w(" and the ")
		p.a(productPath(c, (i*3+1)%20), c.names[(i*3+1)%20])
		p.w(".")
		switch i {
		case 8:
			p.w(" This replaces ")
			p.a(pathDeleted, "last year's summer menu")
			p.w(".")
		case 14:
			p.w(" It works on the old ")
			p.a(pathGone, "Retro Kettle")
			p.w(" too.")
		}
		p.w("</p>\n<p>")
		p.a("#top", "Back to top")
		p.w("</p>\n</article>\n<nav class=\"pager\">")
		if i > 0 {
			p.a(arts[i-1].path, "Previous: "+arts[i-1].title)
			p.w(" ")
		}
		if i+1 < len(arts) {
			p.a(arts[i+1].path, "Next: "+arts[i+1].title)
		}
		p.w("</nav>")
	}}))
}

// guide is one language section of /intl/.
type guide struct {
	code, name, charset string
	declare             declaration
	title, intro        string
	pages               [][2]string // slug, title
}

// guides are served in four charsets, each declared another way.
var guides = []guide{
	{code: "fr", name: "Français", charset: "iso-8859-1", declare: declareHeader,
		title: "Guides du thé et du café",
		intro: "Nos conseils pour préparer le thé et le café à la maison, choisis par l'équipe de Teacup & Co. Température de l'eau, durée d'infusion, matériel : voici l'essentiel.",
		pages: [][2]string{
			{"the-vert", "Thé vert : la préparation idéale à 80 °C"},
			{"cafe-filtre", "Le café filtre à la française"},
			{"conserver-le-cafe", "Conserver ses grains de café"},
			{"choisir-sa-theiere", "Choisir sa théière"},
			{"cold-brew", "Le cold brew, étape par étape"},
			{"oolong", "Déguster un oolong"},
			{"salons-de-the", "L'histoire des salons de thé à Paris"},
			{"detartrer", "Détartrer sa bouilloire sans produits chimiques"},
		}},
	{code: "de", name: "Deutsch", charset: "windows-1252", declare: declareMeta,
		title: "Ratgeber – Tee & Kaffee",
		intro: "Unsere Tipps für Tee und Kaffee zu Hause – ausgewählt vom Team von Teacup & Co. Ein Päckchen Tee gibt es ab 4,90 €.",
		pages: [][2]string{
			{"gruener-tee", "Grüner Tee: die richtige Zubereitung"},
			{"kaffeebohnen-lagern", "Kaffeebohnen richtig lagern"},
			{"teekannen", "Teekannen im Überblick"},
			{"cold-brew", "Cold Brew Schritt für Schritt"},
			{"kaffeehaus", "Die Geschichte des Wiener Kaffeehauses"},
			{"wasserhaerte", "Wasserhärte und Geschmack"},
			{"muehlen", "Mühlen: Kegel oder Scheibe?"},
			{"ostfriesentee", "„Ostfriesentee“ – Tradition mit Kluntjes"},
		}},
	{code: "ja", name: "日本語", charset: "shift_jis", declare: declareHeader,
		title: "お茶とコーヒーのガイド",
		intro: "ご家庭でおいしいお茶とコーヒーを楽しむためのヒントをまとめました。お湯の温度と抽出時間が大切です。",
		pages: [][2]string{
			{"ryokucha", "緑茶の淹れ方"},
			{"matcha", "抹茶の点て方"},
			{"mame-hozon", "コーヒー豆の保存方法"},
			{"kyusu", "急須の選び方"},
			{"mizudashi", "水出しコーヒーの作り方"},
			{"houjicha", "ほうじ茶の楽しみ方"},
			{"hand-drip", "ハンドドリップ入門"},
			{"rekishi", "日本茶の歴史"},
		}},
	{code: "ko", name: "한국어", charset: "euc-kr", declare: declareHTTPEquiv,
		title: "차와 커피 안내서",
		intro: "집에서 차와 커피를 맛있게 즐기는 방법을 소개합니다. 물의 온도와 우리는 시간이 중요합니다.",
		pages: [][2]string{
			{"nokcha", "녹차 우리는 법"},
			{"boricha", "보리차 끓이는 방법"},
			{"wondu-bogwan", "커피 원두 보관법"},
			{"dagi", "다기 고르는 법"},
			{"cold-brew", "콜드브루 만들기"},
			{"hand-drip", "핸드드립 입문"},
			{"yeoksa", "한국 차의 역사"},
			{"yujacha", "유자차 만들기"},
		}},
}

func addGuides(s *site) {
	s.add(render(spec{path: "/intl/", title: "Guides in other languages", body: func(p *builder) {
		p.w("<h1>Guides in other languages</h1>\n<ul>")
		for _, g := range guides {
			p.w("<li>")
			p.a("/intl/"+g.code+"/", g.name)
			p.f(" (%s)</li>", charsets[g.charset].label)
		}
		p.w("</ul>")
	}}))
	for _, g := range guides {
		g := g
		base := "/intl/" + g.code + "/"
		s.add(render(spec{path: base, title: g.title, lang: g.code, charset: g.charset, declare: g.declare, body: func(p *builder) {
			p.f("<h1>%s</h1>\n<p>%s</p>\n<ul>", g.title, g.intro)
			for _, pg := range g.pages {
				p.li(base+pg[0], pg[1])
			}
			p.w("</ul>")
		}}))
		for k, pg := range g.pages {
			next := g.pages[(k+1)%len(g.pages)]
			s.add(render(spec{path: base + pg[0], title: pg[1], lang: g.code, charset: g.charset, declare: g.declare, body: func(p *builder) {
				p.f("<h1>%s</h1>\n<p>%s</p>\n<p>", pg[1], g.intro)
				p.a(base, g.title)
				p.w(" &middot; ")
				p.a(base+next[0], next[1])
				p.w("</p>")
			}}))
		}
	}
}

// addPages adds the home page, help, about, contact, the slow report, the
// redirects and the disallowed pages.
func addPages(s *site) {
	arts := articles()
	s.add(render(spec{path: "/", title: "", body: func(p *builder) {
		p.w("<h1>Teacup &amp; Co.</h1>\n<p>Tea, coffee and everything to brew them, since 2009.</p>\n")
		p.img("/img/banner-winter.jpg", "Winter sale", "banner")
		p.w("\n<p>")
		p.a(pathPromo, "Winter sale: twenty per cent off")
		p.w("</p>\n<h2>Featured</h2>\n<ul>")
		for _, c := range categories {
			p.li(productPath(c, 1), c.names[1])
		}
		p.w("</ul>\n<h2>From the journal</h2>\n<ul>")
		for i := len(arts) - 1; i >= len(arts)-5; i-- {
			p.li(arts[i].path, arts[i].title)
		}
		p.w("</ul>\n<p>")
		p.a("/intl/", "Guides in French, German, Japanese and Korean")
		p.w(" &middot; ")
		p.a(pathLoop, "Members' area")
		p.w("</p>")
	}}))
	oldTheme := func(p *builder) { p.stylesheet("/static/old-theme.css") }
	s.add(render(spec{path: "/help/", title: "Help", head: oldTheme, body: func(p *builder) {
		p.w("<h1>Help</h1>\n<ul>")
		p.li("/help/faq#q-shipping", "When will my order arrive?")
		p.li("/help/faq#q-returns", "Can I return a product?")
		p.li("/help/shipping", "Shipping")
		p.li("/help/returns", "Returns")
		p.w("</ul>\n<p>Is the shop down? Check our ")
		p.a(offsiteStatus, "status page")
		p.w(".</p>")
	}}))
	s.add(render(spec{path: "/help/faq", title: "Frequently asked questions", head: oldTheme, body: func(p *builder) {
		p.w("<h1>Frequently asked questions</h1>\n<nav class=\"toc\"><ul>")
		p.li("#q-shipping", "Shipping")
		p.li("#q-returns", "Returns")
		p.li("#q-payment", "Payment")
		p.li("#q-menu", "The seasonal menu")
		p.w("</ul></nav>\n")
		p.w("<h2 id=\"q-shipping\">When will my order arrive?</h2>\n<p>In two to four working days. See ")
		p.a("/help/shipping#rates", "shipping rates")
		p.w(".</p>\n<h2 id=\"q-returns\">Can I return a product?</h2>\n<p>Within 30 days: see ")
		p.a("/help/returns#window", "returns")
		p.w(".</p>\n<h2 id=\"q-payment\">How can I pay?</h2>\n<p>By card or bank transfer.</p>\n")
		p.w("<h2 id=\"q-menu\">Where is the seasonal menu?</h2>\n<p>Last summer's was ")
		p.a(pathDeleted, "here")
		p.w(".</p>")
	}}))
	s.add(render(spec{path: "/help/shipping", title: "Shipping", head: oldTheme, body: func(p *builder) {
		p.w("<h1>Shipping</h1>\n<h2 id=\"rates\">Rates</h2>\n<p>Free from €40; €4.90 below.</p>\n<p>")
		p.a("/help/", "Back to help")
		p.w("</p>")
	}}))
	s.add(render(spec{path: "/help/returns", title: "Returns", head: oldTheme, body: func(p *builder) {
		p.w("<h1>Returns</h1>\n<h2 id=\"window\">Thirty days</h2>\n<p>Unopened products come back within 30 days.</p>\n<p>")
		p.a("/help/faq#q-returns", "Questions about returns")
		p.w("</p>")
	}}))
	s.add(render(spec{path: "/about", title: "About us", body: func(p *builder) {
		p.w("<h1>About us</h1>\n<p>We roast with ")
		p.a(offsiteRoast, "our partner roastery")
		p.w(" and post on ")
		p.a(offsiteSocial, "social media")
		p.w(".</p>\n<p>")
		p.a(pathSlow, "Annual report 2025")
		p.w(" (a big page: it takes a moment).</p>")
	}}))
	s.add(render(spec{path: "/contact", title: "Contact", head: func(p *builder) { p.script("/static/analytics.js") }, body: func(p *builder) {
		p.w("<h1>Contact</h1>\n<address>Teacup &amp; Co., 12 Harbour Lane, Bristol<br>\n")
		p.a("mailto:hello@teacup.invalid?subject=Hello", "hello@teacup.invalid")
		p.w("<br>\n")
		p.a("tel:+441179460000", "+44 117 946 0000")
		p.w("</address>\n<p>Or write to us on ")
		p.a(offsiteSocial, "social media")
		p.w(".</p>")
	}}))
	slow := render(spec{path: pathSlow, title: "Annual report 2025", body: func(p *builder) {
		p.w("<h1>Annual report 2025</h1>\n")
		for q := 1; q <= 4; q++ {
			p.f("<h2 id=\"q%d\">Quarter %d</h2>\n<p>Sales grew; the kettles sold best.</p>\n", q, q)
		}
	}})
	slow.delay, slow.Delay = SlowDelay, SlowDelay
	s.add(slow)

	// /promo -> 301 /promo/winter -> 302 /shop/sale.
	s.redirect(pathPromo, "/promo/winter", 301)
	s.redirect("/promo/winter", "/shop/sale", 302)
	// /members -> 301 /members/ -> 301 /members: a trailing-slash loop.
	s.redirect(pathLoop, pathLoop+"/", 301)
	s.redirect(pathLoop+"/", pathLoop, 301)

	// Disallowed by robots.txt: served all the same, for impolite crawlers.
	s.add(render(spec{path: "/cart", title: "Your cart", body: func(p *builder) {
		p.w("<h1>Your cart</h1>\n<p>Your cart is empty.</p>")
	}}))
	s.add(render(spec{path: "/private/", title: "Staff area", body: func(p *builder) {
		p.w("<h1>Staff area</h1>\n<ul>")
		p.li("/private/rota", "Rota")
		p.w("</ul>")
	}}))
	s.add(render(spec{path: "/private/rota", title: "Rota", body: func(p *builder) {
		p.w("<h1>Rota</h1>\n<p>Monday: Sam. Tuesday: Alex.</p>")
	}}))
}

func addAssets(s *site) {
	s.add(&resource{Page: Page{Path: "/static/site.css"}, status: 200, contentType: "text/css; charset=utf-8",
		body: []byte("body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:60em}\n.price{font-weight:bold}\n")})
	s.add(&resource{Page: Page{Path: "/static/app.js"}, status: 200, contentType: "text/javascript; charset=utf-8",
		body: []byte("document.documentElement.classList.add('js');\n")})
	s.add(&resource{Page: Page{Path: "/img/logo.svg"}, status: 200, contentType: "image/svg+xml", body: svg(siteName, 0)})
}
