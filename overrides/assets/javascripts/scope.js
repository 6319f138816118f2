// The theme's storage helpers (mkdocs-material's partials/javascripts/base.html), loaded as one cached
// file instead of being written into every page (issue #17: about 300 bytes a page, 3 MB at 10,000
// studies). The scope is the site's root: this file sits in <root>/assets/javascripts/, so it is
// the folder two levels up, where the theme computes it from the page's base URL. It must run
// before the theme's bundle, which reads these globals: it is loaded in <head>, without defer.
__md_scope=new URL("../..",document.currentScript.src),__md_hash=e=>[...e].reduce(((e,_)=>(e<<5)-e+_.charCodeAt(0)),0),__md_get=(e,_=localStorage,t=__md_scope)=>JSON.parse(_.getItem(t.pathname+"."+e)),__md_set=(e,_,t=localStorage,a=__md_scope)=>{try{t.setItem(a.pathname+"."+e,JSON.stringify(_))}catch(e){}}
