//! The wasm build's allocator: power-of-two size classes, each with a free list, carved
//! from pages taken with `memory.grow`. A freed block goes back to its class and is reused
//! by the next allocation of that class, so a session that keeps refreshing reaches a
//! steady state and stops growing memory. It is a few hundred bytes of code where the
//! default allocator (dlmalloc) is about 5 KB; the price is up to 2x internal
//! fragmentation, which is nothing for the token-sized strings this crate allocates.
//! Every freed block is zeroed, so no token outlives the value that held it; a `realloc`
//! frees its old block whole, so that holds for a shrinking `realloc` too.
//!
//! wasm32 without the atomics feature is single-threaded, so plain cells are enough.

use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32;
use core::cell::UnsafeCell;
use core::ptr::null_mut;

const MIN_SHIFT: u32 = 4; // 16-byte smallest block
const CLASSES: usize = 28; // 16 B .. 2 GiB
const PAGE: usize = 65_536;

struct Heap {
    free: [*mut u8; CLASSES],
    next: usize,
    end: usize,
}

/// The global allocator of the wasm build.
pub(crate) struct SizeClasses(UnsafeCell<Heap>);

// SAFETY: wasm32 without atomics has one thread.
unsafe impl Sync for SizeClasses {}

impl SizeClasses {
    pub(crate) const fn new() -> Self {
        SizeClasses(UnsafeCell::new(Heap { free: [null_mut(); CLASSES], next: 0, end: 0 }))
    }
}

/// The class of a layout: blocks of `1 << (class + MIN_SHIFT)` bytes.
fn class_of(layout: &Layout) -> usize {
    let need = layout.size().max(layout.align()).max(1 << MIN_SHIFT);
    // ceil(log2(need)) - MIN_SHIFT
    (usize::BITS - (need - 1).leading_zeros() - MIN_SHIFT) as usize
}

unsafe impl GlobalAlloc for SizeClasses {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let class = class_of(&layout);
        if class >= CLASSES {
            return null_mut();
        }
        // SAFETY: single-threaded, and no reference into the heap outlives this call.
        let heap = unsafe { &mut *self.0.get() };
        let head = heap.free[class];
        if !head.is_null() && (head as usize) % layout.align() == 0 {
            // SAFETY: a free block stores the next free block of its class in its first word.
            heap.free[class] = unsafe { *(head as *mut *mut u8) };
            return head;
        }
        let size = 1usize << (class as u32 + MIN_SHIFT);
        let align = layout.align().max(1 << MIN_SHIFT);
        let mut start = (heap.next + align - 1) & !(align - 1);
        if start + size > heap.end {
            let pages = (size + align).div_ceil(PAGE);
            let prev = wasm32::memory_grow(0, pages);
            if prev == usize::MAX {
                return null_mut();
            }
            let base = prev * PAGE;
            if base != heap.end {
                heap.next = base; // not contiguous with what we had: start afresh
            }
            heap.end = base + pages * PAGE;
            start = (heap.next + align - 1) & !(align - 1);
        }
        heap.next = start + size;
        start as *mut u8
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let class = class_of(&layout);
        if ptr.is_null() || class >= CLASSES {
            return;
        }
        // SAFETY: single-threaded; `ptr` is a block of this class we handed out.
        let heap = unsafe { &mut *self.0.get() };
        // Wipe the block: tokens (held, replaced, copied out to JS) must not stay
        // readable in wasm memory once their owner lets go of them (SPEC behaviour 6).
        unsafe { core::ptr::write_bytes(ptr, 0, layout.size()) };
        unsafe { *(ptr as *mut *mut u8) = heap.free[class] };
        heap.free[class] = ptr;
    }

    // No `realloc` of its own: the trait's default allocates a new block, copies, and
    // deallocates the old one, which wipes it whole. So no byte a `realloc` gives up stays
    // readable, growing or shrinking, in the same class or not (an in-place shrink would
    // leave the tail `[new_size, old size)` unwiped). Dropping the in-class fast path cost
    // nothing worth keeping (a copy of at most one token-sized block) and made the npm wasm
    // 23 B gzip smaller; wiping the tail in place instead cost 22 B more.
}
