//! A heap census: every live JS object of the isolate counted by V8 map and
//! named like a heap snapshot names it, without building a snapshot.
//!
//! `v8::HeapProfiler::QueryObjects(context, predicate, out)` is the only
//! exported V8 API that visits every live JS object: it clears the slots of
//! every feedback vector, moves small on-heap typed arrays off-heap, runs
//! `CollectAllAvailableGarbage`, then walks the reachable heap and calls
//! `predicate->Filter(Local<Object>)` for each `JSObject` (in every context of
//! the isolate; not strings, proxies or V8's internal objects). The
//! predicate is built here: a `#[repr(C)]` object whose first word points at
//! a hand-made Itanium vtable (slots: complete destructor, deleting
//! destructor, `Filter`), as `v8-profiler.h` declares `QueryObjectPredicate`
//! (a virtual destructor, then `virtual bool Filter(Local<Object>)`). Filter
//! always returns false, so V8 never adds to `out`.
//!
//! Inside `Filter` V8 is iterating its heap: a GC there would invalidate the
//! walk. So nothing in it may allocate on the JS heap, and it reads as little
//! as it can:
//! - the object's map (raw read of its first word) and the map's
//!   `instance_size_in_words` byte, the object's whole shallow size; the
//!   offsets come from the per-major table and are checked against V8's own
//!   postmortem metadata (`v8dbg_*` data symbols) before the first census;
//! - `Object::HasRealNamedProperty(ctx, @@toStringTag)`: an own-property
//!   lookup that calls no getter or interceptor;
//! - `Object::GetConstructorName()` once per map (the name depends only on
//!   the map, except through an own `@@toStringTag` data property, whose
//!   objects are named one by one). It runs no JS (data properties only), but
//!   can allocate for a WebAssembly export used as `constructor`, which is
//!   why it is never called per object;
//! - `Value::IsFunction()` (map bits), for the closure group.
//!
//! Names are kept as handles and read as UTF-8 after the walk, when
//! allocating is allowed again (reading flattens a cons string). Every
//! handle, V8's one per visited object included, lives in one N-API handle
//! scope opened for the census and closed before it returns.
//!
//! Like the rest of the FFI this decides no names or order: it returns raw
//! groups (a name's bytes or "a function") with counts and bytes.

use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;

use napi::sys;

use super::gc::{Isolate, RawIsolate};
use super::{lookup, resolve, CensusLayout, Layout, Missing};

/// A `v8::Local<T>`: a pointer to a handle slot (one word, passed and
/// returned in a register like a pointer).
type Local = *mut c_void;
type RawProfiler = *mut c_void;

// `HeapProfiler* Isolate::GetHeapProfiler()`
type GetHeapProfilerFn = unsafe extern "C" fn(RawIsolate) -> RawProfiler;
// `Local<Context> Isolate::GetCurrentContext()`
type GetCurrentContextFn = unsafe extern "C" fn(RawIsolate) -> Local;
// `void HeapProfiler::QueryObjects(Local<Context>, QueryObjectPredicate*,
//  std::vector<Global<Object>>*)`
type QueryObjectsFn = unsafe extern "C" fn(RawProfiler, Local, *mut Predicate, *mut StdVector);
// `Local<String> Object::GetConstructorName()`
type GetConstructorNameFn = unsafe extern "C" fn(Local) -> Local;
// `bool Value::IsFunction() const`
type IsFunctionFn = unsafe extern "C" fn(Local) -> bool;
// `Maybe<bool> Object::HasRealNamedProperty(Local<Context>, Local<Name>)`:
// `Maybe<bool>` is `{ bool has_value_; bool value_; }`, trivially copyable,
// returned in the low two bytes of the return register.
type HasRealNamedPropertyFn = unsafe extern "C" fn(Local, Local, Local) -> u16;
// `static Local<Symbol> Symbol::GetToStringTag(Isolate*)`
type GetToStringTagFn = unsafe extern "C" fn(RawIsolate) -> Local;

/// `HeapProfiler::QueryObjects(...)`'s mangled name: `std::vector` is
/// `std::__1::vector` in libc++, the C++ library of Node's macOS builds.
#[cfg(not(target_os = "macos"))]
const QUERY_OBJECTS: &CStr = c"_ZN2v812HeapProfiler12QueryObjectsENS_5LocalINS_7ContextEEEPNS_20QueryObjectPredicateEPSt6vectorINS_6GlobalINS_6ObjectEEESaIS9_EE";
#[cfg(target_os = "macos")]
const QUERY_OBJECTS: &CStr = c"_ZN2v812HeapProfiler12QueryObjectsENS_5LocalINS_7ContextEEEPNS_20QueryObjectPredicateEPNSt3__16vectorINS_6GlobalINS_6ObjectEEENS6_9allocatorISA_EEEE";

/// `Just(true)` as `HasRealNamedPropertyFn` returns it.
const JUST_TRUE: u16 = 0x0101;

/// Why a census cannot run on this node binary.
#[derive(Debug, Clone)]
pub enum Unavailable {
    /// The per-major table has no verified census layout for this major.
    Unverified(u32),
    /// The binary does not export a symbol the census needs.
    Missing(Missing),
    /// V8's postmortem metadata says the object layout differs from the
    /// verified one.
    Layout(String),
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unavailable::Unverified(major) => {
                write!(f, "no census layout is verified for Node {major}")
            }
            Unavailable::Missing(m) => write!(f, "this node binary does not export {m}"),
            Unavailable::Layout(why) => {
                write!(f, "V8's object layout is not the verified one: {why}")
            }
        }
    }
}

impl From<Missing> for Unavailable {
    fn from(m: Missing) -> Self {
        Unavailable::Missing(m)
    }
}

/// The V8 entry points behind a census, and the checked layout.
#[derive(Clone, Copy)]
pub struct CensusApi {
    layout: CensusLayout,
    get_heap_profiler: GetHeapProfilerFn,
    get_current_context: GetCurrentContextFn,
    query_objects: QueryObjectsFn,
    get_constructor_name: GetConstructorNameFn,
    is_function: IsFunctionFn,
    has_real_named_property: HasRealNamedPropertyFn,
    get_to_string_tag: GetToStringTagFn,
}

/// Reads one of V8's postmortem metadata constants (an exported `int`).
fn metadata(symbol: Result<NonNull<c_void>, Missing>) -> Result<i64, Missing> {
    let p = symbol?;
    // SAFETY: `v8dbg_*` symbols are `int` constants V8 defines for
    // debuggers (`extern "C" int v8dbg_...`, in the binary's data), so the
    // address is that of a live, aligned `c_int`.
    Ok(i64::from(unsafe { p.cast::<c_int>().as_ptr().read() }))
}

impl CensusApi {
    /// Resolves every symbol a census needs and checks the table's layout
    /// against the binary's postmortem metadata. Any failure makes the
    /// census unavailable and touches nothing else.
    pub fn resolve(layout: Layout) -> Result<CensusApi, Unavailable> {
        let Some(census) = layout.census else {
            return Err(Unavailable::Unverified(layout.major));
        };
        let api = Self::symbols(census)?;
        let found = [
            (
                "v8dbg_class_HeapObject__map__Map",
                metadata(lookup(c"v8dbg_class_HeapObject__map__Map"))?,
                census.map_offset,
            ),
            (
                "v8dbg_class_Map__instance_size_in_words__char",
                metadata(lookup(c"v8dbg_class_Map__instance_size_in_words__char"))?,
                census.instance_size_in_words_offset,
            ),
            (
                "v8dbg_HeapObjectTag",
                metadata(lookup(c"v8dbg_HeapObjectTag"))?,
                census.heap_object_tag,
            ),
            (
                "v8dbg_SystemPointerSize",
                metadata(lookup(c"v8dbg_SystemPointerSize"))?,
                census.pointer_size,
            ),
        ];
        for (name, got, want) in found {
            if usize::try_from(got).ok() != Some(want) {
                return Err(Unavailable::Layout(format!(
                    "{name} is {got}, expected {want}"
                )));
            }
        }
        // The map word is one word, so instance_size_in_words must follow it
        // directly: with pointer compression (4-byte tagged values) it would
        // sit at 4.
        if census.instance_size_in_words_offset != census.map_offset + census.pointer_size {
            return Err(Unavailable::Layout(
                "instance_size_in_words does not follow a full-word map".into(),
            ));
        }
        Ok(api)
    }

    fn symbols(layout: CensusLayout) -> Result<CensusApi, Missing> {
        // SAFETY: `QUERY_OBJECTS` mangles `void HeapProfiler::QueryObjects(
        // Local<Context>, QueryObjectPredicate*, std::vector<Global<Object>>*)`,
        // whose signature is `QueryObjectsFn` with `this` first.
        let query_objects = unsafe { resolve::<QueryObjectsFn>(QUERY_OBJECTS) }?;
        Ok(CensusApi {
            layout,
            get_heap_profiler: symbol!("_ZN2v87Isolate15GetHeapProfilerEv"),
            get_current_context: symbol!("_ZN2v87Isolate17GetCurrentContextEv"),
            query_objects,
            get_constructor_name: symbol!("_ZN2v86Object18GetConstructorNameEv"),
            is_function: symbol!("_ZNK2v85Value10IsFunctionEv"),
            has_real_named_property: symbol!(
                "_ZN2v86Object20HasRealNamedPropertyENS_5LocalINS_7ContextEEENS1_INS_4NameEEE"
            ),
            get_to_string_tag: symbol!("_ZN2v86Symbol14GetToStringTagEPNS_7IsolateE"),
        })
    }

    /// Counts every live JS object of `isolate` by group. Runs V8's full
    /// GCs first (which call the GC callbacks: the caller suppresses their
    /// reporting), clears every function's type feedback and moves small
    /// on-heap typed arrays off-heap (QueryObjects does both).
    ///
    /// Must be called on the isolate's thread from a call into native code
    /// with `env` (a JS call, or the event loop's wake-up), never from a GC
    /// callback or a finalizer, and not from inside another census (which
    /// cannot happen: no JS runs during one).
    pub fn census(&self, isolate: Isolate, env: &napi::Env) -> Result<RawCensus, &'static str> {
        let raw_env = env.raw();
        let scope = Scope::open(raw_env).ok_or("could not open a handle scope")?;
        let iso = isolate.ptr.as_ptr();
        // SAFETY: `isolate` is the live isolate of this thread (an `Isolate`
        // is only made on its own thread and is not `Send`).
        let profiler = unsafe { (self.get_heap_profiler)(iso) };
        if profiler.is_null() {
            return Err("V8 has no heap profiler for this isolate");
        }
        // SAFETY: as above; the returned handle lands in `scope`.
        let context = unsafe { (self.get_current_context)(iso) };
        if context.is_null() {
            return Err("no JavaScript context is entered");
        }
        // SAFETY: as above; a well-known symbol, its handle lands in `scope`.
        let to_string_tag = unsafe { (self.get_to_string_tag)(iso) };
        if to_string_tag.is_null() {
            return Err("V8 returned no @@toStringTag symbol");
        }
        let mut walk = Walk {
            api: self,
            env: raw_env,
            context,
            to_string_tag,
            by_map: HashMap::new(),
            by_name: HashMap::new(),
            last_map: None,
            slots: Vec::new(),
            closure: None,
            objects: 0,
            failed: None,
        };
        let mut predicate = Predicate {
            vptr: std::ptr::addr_of!(VTABLE.complete_dtor).cast(),
            walk: std::ptr::addr_of_mut!(walk).cast(),
        };
        let mut out = StdVector([0; 3]);
        // SAFETY: the signature is `QueryObjectsFn` with `this` first;
        // `profiler` and `context` belong to this thread's isolate, with a
        // handle scope open; `predicate` has the Itanium layout of a
        // `QueryObjectPredicate` (vptr to the address point of `VTABLE`,
        // whose slots follow the header's declaration order) and outlives
        // the call, as does `walk`, which nothing else touches meanwhile;
        // `out` is an empty `std::vector` (three null pointers in libstdc++
        // and libc++) that V8 never grows because Filter returns false. No
        // GC callback of this addon calls into JS or V8's heap.
        unsafe { (self.query_objects)(profiler, context, &mut predicate, &mut out) };
        debug_assert_eq!(out.0, [0; 3], "V8 kept objects the filter refused");
        if let Some(why) = walk.failed {
            return Err(why);
        }
        let groups = walk
            .slots
            .iter()
            .map(|slot| RawGroup {
                name: match slot.name {
                    Name::Closure => RawName::Closure,
                    Name::Handle(h) => scope
                        .read_utf8(h)
                        .map(RawName::Constructor)
                        .unwrap_or(RawName::Unknown),
                    Name::None => RawName::Unknown,
                },
                count: slot.count,
                bytes: slot.bytes,
            })
            .collect();
        let objects = walk.objects;
        drop(scope);
        Ok(RawCensus { groups, objects })
    }
}

/// What a census found, grouped by V8 map and name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawCensus {
    /// One entry per distinct name handle (two entries may carry the same
    /// text: merging is the caller's business).
    pub groups: Vec<RawGroup>,
    /// JS objects visited.
    pub objects: u64,
}

/// One group of a [`RawCensus`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawGroup {
    pub name: RawName,
    /// Objects.
    pub count: u64,
    /// Sum of their shallow sizes, bytes.
    pub bytes: u64,
}

/// How a group's objects are named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawName {
    /// Functions (`Value::IsFunction`): closures, bound functions, classes.
    Closure,
    /// `Object::GetConstructorName()`, UTF-8 (may be empty).
    Constructor(Vec<u8>),
    /// V8 gave no name, or it could not be read.
    Unknown,
}

/// An empty `std::vector<T>` as libstdc++ and libc++ lay it out: begin,
/// end, end of storage.
#[repr(C)]
struct StdVector([usize; 3]);

/// The vtable of a `v8::QueryObjectPredicate`: the offset to top and the
/// type info (V8 is built without RTTI and never reads it) before the
/// address point, then the virtual functions in declaration order.
#[repr(C)]
struct VTable {
    offset_to_top: isize,
    type_info: usize,
    complete_dtor: unsafe extern "C" fn(*mut Predicate),
    deleting_dtor: unsafe extern "C" fn(*mut Predicate),
    filter: unsafe extern "C" fn(*mut Predicate, Local) -> bool,
}

static VTABLE: VTable = VTable {
    offset_to_top: 0,
    type_info: 0,
    complete_dtor: predicate_dtor,
    deleting_dtor: predicate_dtor,
    filter: predicate_filter,
};

/// A `v8::QueryObjectPredicate`: its vptr, then the [`Walk`] it reports to.
#[repr(C)]
struct Predicate {
    vptr: *const c_void,
    walk: *mut c_void,
}

/// Never called: V8 does not destroy a predicate it was handed (it lives on
/// [`CensusApi::census`]'s stack).
unsafe extern "C" fn predicate_dtor(_predicate: *mut Predicate) {}

/// `QueryObjectPredicate::Filter`: counts `object` and refuses it.
unsafe extern "C" fn predicate_filter(predicate: *mut Predicate, object: Local) -> bool {
    // SAFETY: V8 calls Filter with the predicate handed to QueryObjects,
    // alive on `CensusApi::census`'s stack for the whole call.
    let walk = unsafe { (*predicate).walk }.cast::<Walk<'_>>();
    // SAFETY: `walk` points to the census's `Walk`, which outlives the call
    // and is not otherwise accessed until QueryObjects returns; Filter calls
    // do not nest (V8 calls them one after another on this thread).
    let walk = unsafe { &mut *walk };
    if walk.failed.is_none() {
        // A panic must not unwind into V8: the census is marked failed.
        let visited = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: `object` is the live `Local<Object>` V8 passes to
            // Filter while it walks its heap; no GC runs meanwhile.
            unsafe { walk.visit(object) }
        }));
        if visited.is_err() {
            walk.failed = Some("the census filter panicked");
        }
    }
    false
}

/// A group's name as the walk holds it.
#[derive(Clone, Copy)]
enum Name {
    Closure,
    /// A `Local<String>` in the census's handle scope.
    Handle(Local),
    None,
}

struct Slot {
    name: Name,
    count: u64,
    bytes: u64,
}

/// The walk's state, reached from [`predicate_filter`].
struct Walk<'a> {
    api: &'a CensusApi,
    env: sys::napi_env,
    context: Local,
    to_string_tag: Local,
    /// Slot of each map seen (its objects' name depends on the map alone).
    by_map: HashMap<usize, u32>,
    /// Slot of each name string seen (by address; no GC moves it during the
    /// walk).
    by_name: HashMap<usize, u32>,
    /// The previous object's map and slot (objects of one map are often
    /// adjacent in the heap).
    last_map: Option<(usize, u32)>,
    slots: Vec<Slot>,
    closure: Option<u32>,
    objects: u64,
    failed: Option<&'static str>,
}

impl Walk<'_> {
    /// Counts one object.
    ///
    /// # Safety
    /// `object` is a live `Local<Object>` and V8 is walking its heap (no GC
    /// can run until Filter returns).
    unsafe fn visit(&mut self, object: Local) {
        self.objects += 1;
        // SAFETY: the caller's contract.
        let (map, size) = unsafe { self.map_and_size(object) };
        // SAFETY: the caller's contract.
        let slot = if unsafe { self.has_own_tag(object) } {
            // SAFETY: the caller's contract.
            unsafe { self.name_one(object) }
        } else {
            match self.last_map {
                Some((m, s)) if m == map => s,
                _ => {
                    let s = match self.by_map.get(&map) {
                        Some(&s) => s,
                        None => {
                            // SAFETY: the caller's contract.
                            let s = unsafe { self.classify(object) };
                            self.by_map.insert(map, s);
                            s
                        }
                    };
                    self.last_map = Some((map, s));
                    s
                }
            }
        };
        let slot = &mut self.slots[slot as usize];
        slot.count += 1;
        slot.bytes += size;
    }

    /// The object's map address and shallow size in bytes.
    ///
    /// # Safety
    /// As [`visit`](Self::visit).
    unsafe fn map_and_size(&self, object: Local) -> (usize, u64) {
        let l = &self.api.layout;
        // SAFETY: a `Local` points to a handle slot holding the tagged
        // pointer of a live heap object.
        let tagged = unsafe { object.cast::<usize>().read() };
        let address = tagged.wrapping_sub(l.heap_object_tag);
        // SAFETY: every heap object starts with its map word at `map_offset`
        // (checked against V8's metadata); the object is live and does not
        // move while V8 walks the heap.
        let map = unsafe { ((address + l.map_offset) as *const usize).read() };
        let map = map.wrapping_sub(l.heap_object_tag);
        // SAFETY: a map is a live heap object whose `instance_size_in_words`
        // is the byte at `instance_size_in_words_offset` (checked against
        // V8's metadata).
        let words = unsafe { ((map + l.instance_size_in_words_offset) as *const u8).read() };
        (map, u64::from(words) * l.pointer_size as u64)
    }

    /// Whether the object has an own `@@toStringTag` property (whose value,
    /// if a string, names it instead of its map).
    ///
    /// # Safety
    /// As [`visit`](Self::visit).
    unsafe fn has_own_tag(&self, object: Local) -> bool {
        // SAFETY: `object`, `context` and `to_string_tag` are live handles
        // of this isolate. The lookup is own-only, skips interceptors, calls
        // no getter and allocates nothing on the JS heap (its handles go to
        // an internal handle scope of its own).
        let has =
            unsafe { (self.api.has_real_named_property)(object, self.context, self.to_string_tag) };
        has == JUST_TRUE
    }

    /// The slot of an object named by its map, made on the first object of
    /// each map. Its name handle stays in the census's scope (a few handles
    /// per map, not per object).
    ///
    /// # Safety
    /// As [`visit`](Self::visit).
    unsafe fn classify(&mut self, object: Local) -> u32 {
        // SAFETY: `object` is live; `IsFunction` reads its map's bits.
        if unsafe { (self.api.is_function)(object) } {
            return self.closure_slot();
        }
        // SAFETY: `object` is live. `GetConstructorName` runs no JS (it
        // reads data properties only, skipping accessors, proxies and
        // interceptors); its handles go to the current scope, the census's.
        let name = unsafe { (self.api.get_constructor_name)(object) };
        // SAFETY: `name` is null or a live handle.
        let key = unsafe { handle_key(name) };
        match self.by_name.get(&key) {
            Some(&s) => s,
            None => self.new_slot(key, name),
        }
    }

    /// The slot of an object with an own `@@toStringTag`, named one by one
    /// inside a handle scope of its own, so such objects leave no handles
    /// behind; a new name is asked again in the census's scope to keep it.
    ///
    /// # Safety
    /// As [`visit`](Self::visit).
    unsafe fn name_one(&mut self, object: Local) -> u32 {
        // SAFETY: `object` is live; `IsFunction` reads its map's bits.
        if unsafe { (self.api.is_function)(object) } {
            return self.closure_slot();
        }
        let key = match Scope::open(self.env) {
            Some(inner) => {
                // SAFETY: as in `classify`; the handles go to `inner`.
                let name = unsafe { (self.api.get_constructor_name)(object) };
                // SAFETY: `name` is null or a live handle in `inner`.
                let key = unsafe { handle_key(name) };
                drop(inner);
                Some(key)
            }
            None => None,
        };
        if let Some(&s) = key.and_then(|k| self.by_name.get(&k)) {
            return s;
        }
        // SAFETY: as in `classify`.
        let name = unsafe { (self.api.get_constructor_name)(object) };
        // SAFETY: `name` is null or a live handle.
        let key = unsafe { handle_key(name) };
        match self.by_name.get(&key) {
            Some(&s) => s,
            None => self.new_slot(key, name),
        }
    }

    fn closure_slot(&mut self) -> u32 {
        if let Some(s) = self.closure {
            return s;
        }
        let s = self.slots.len() as u32;
        self.slots.push(Slot {
            name: Name::Closure,
            count: 0,
            bytes: 0,
        });
        self.closure = Some(s);
        s
    }

    fn new_slot(&mut self, key: usize, name: Local) -> u32 {
        let s = self.slots.len() as u32;
        self.slots.push(Slot {
            name: if name.is_null() {
                Name::None
            } else {
                Name::Handle(name)
            },
            count: 0,
            bytes: 0,
        });
        self.by_name.insert(key, s);
        s
    }
}

/// The identity of a name handle: the address of the string it holds (0
/// for an empty handle).
///
/// # Safety
/// `name` is null or a live handle, and no GC runs while the key is used.
unsafe fn handle_key(name: Local) -> usize {
    if name.is_null() {
        return 0;
    }
    // SAFETY: the caller's contract: a live handle slot.
    unsafe { name.cast::<usize>().read() }
}

/// An open N-API handle scope, closed on drop. Scopes are strictly nested:
/// each is dropped before the scope that was current when it opened.
struct Scope {
    env: sys::napi_env,
    scope: sys::napi_handle_scope,
}

impl Scope {
    fn open(env: sys::napi_env) -> Option<Scope> {
        let mut scope: sys::napi_handle_scope = std::ptr::null_mut();
        // SAFETY: `env` is the env of the native call running on this
        // thread; `scope` is a valid out-pointer. Opening a scope allocates
        // only on the C++ heap, so it is allowed inside the walk.
        let status = unsafe { sys::napi_open_handle_scope(env, &mut scope) };
        (status == sys::Status::napi_ok && !scope.is_null()).then_some(Scope { env, scope })
    }

    /// The UTF-8 bytes of the JS string held by `handle`, a live handle
    /// opened in this scope or an enclosed one still open.
    fn read_utf8(&self, handle: Local) -> Option<Vec<u8>> {
        // A `v8::Local<v8::Value>` and a `napi_value` are the same pointer in
        // Node's N-API (see `heap_profiler.rs`).
        let value = handle.cast::<sys::napi_value__>();
        let mut len = 0usize;
        // SAFETY: a null buffer asks only for the length in bytes; `value`
        // is a live string handle of this env.
        let status = unsafe {
            sys::napi_get_value_string_utf8(self.env, value, std::ptr::null_mut(), 0, &mut len)
        };
        if status != sys::Status::napi_ok {
            return None;
        }
        let mut buf = vec![0u8; len + 1];
        let mut written = 0usize;
        // SAFETY: `buf` has `len + 1` writable bytes; N-API writes at most
        // that many (the string and a NUL) and reports the bytes written.
        let status = unsafe {
            sys::napi_get_value_string_utf8(
                self.env,
                value,
                buf.as_mut_ptr().cast::<c_char>(),
                len + 1,
                &mut written,
            )
        };
        if status != sys::Status::napi_ok {
            return None;
        }
        buf.truncate(written.min(len));
        Some(buf)
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        // SAFETY: scopes are closed in reverse order of opening (each is a
        // local dropped before the scope around it), on the env's thread.
        unsafe {
            sys::napi_close_handle_scope(self.env, self.scope);
        }
    }
}
